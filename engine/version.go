package engine

// RedisVersion is the Redis version whose protocol, replies and error
// strings Shoal follows (the differential test compares with it byte for
// byte); INFO and HELLO report it, and clients read it to decide what they
// may send.
const RedisVersion = "7.0.15"
