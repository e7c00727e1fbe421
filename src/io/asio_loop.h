// Internal to io/ and http/: the Asio io_context behind a Loop made by NewLoop().
#pragma once

#include <boost/asio/io_context.hpp>

#include "io/loop.h"

namespace mcpgw::io {

boost::asio::io_context& IoContextOf(Loop& loop);

}  // namespace mcpgw::io
