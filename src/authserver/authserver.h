// `mcpgw auth-server` and its admin subcommands; src/app/main.cc parses the flags and calls these.
//
// The development authorization server issues RFC 9068 JWT access tokens for the gateway's tests
// and local use: see docs/auth-server.md. It is not an identity provider for production.
//
// Exit codes: 0 success (or stopped cleanly), 1 runtime failure, 2 bad configuration.
#pragma once

#include <string>

namespace mcpgw::authserver {

// Runs the server until SIGTERM or SIGINT. SIGHUP re-reads the users file and the keys; key
// rotations by another process are also noticed within two seconds. `check_only` validates the
// configuration and returns.
int RunServer(const std::string& config_path, bool check_only);

// Makes a new signing key active; the previous one stays published for key_rotation_overlap_s.
int RotateKeysCommand(const std::string& config_path);

// Reads a password from stdin (without echo on a terminal) and prints its pbkdf2-sha256 hash.
int HashPasswordCommand(int iterations);

}  // namespace mcpgw::authserver
