#include <gtest/gtest.h>

#include "rego/builtins.h"
