// The chat bus over Redis, for several nodes behind a load balancer acting as one room: a Lua
// script appends each message to the room's stream and publishes it in one step, so Redis
// assigns the order and keeps the catch-up history; every node subscribes once per room.
// Key layout: proto/redis.md.
#pragma once

#include "bus/redis_url.hpp"
#include "live_room/room_bus.hpp"

#include <boost/asio/io_context.hpp>

namespace cohort::live_room {

// Connects in the background and reconnects with backoff; available() is false meanwhile.
std::unique_ptr<room_bus> make_redis_bus(boost::asio::io_context& ioc, bus::redis_endpoint endpoint,
                                         std::size_t history_max = 1000);

}  // namespace cohort::live_room
