-- 0002: the users mirror records the identity's groups too (JSON array, like roles).
ALTER TABLE users ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
