-- One fixed window per client and budget, in Redis's clock, so replicas agree whatever theirs
-- say. One key per call (safe on Redis Cluster); Redis >= 5 replicates scripts by their effects,
-- so reading TIME before writing is allowed.
-- KEYS[1]: the client's counter, a hash {w: window number, n: requests counted in it}.
-- ARGV[1]: requests allowed per window; ARGV[2]: the window's length in seconds.
-- Counts this request if it is within the budget.
-- Returns {1 allowed / 0 refused, requests counted in the window, seconds until it ends}.
local now = tonumber(redis.call('TIME')[1])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local current = math.floor(now / window)
local reset = (current + 1) * window - now
local state = redis.call('HMGET', KEYS[1], 'w', 'n')
local used = 0
if tonumber(state[1]) == current then used = tonumber(state[2]) end
if used >= limit then return {0, used, reset} end
used = used + 1
redis.call('HSET', KEYS[1], 'w', current, 'n', used)
redis.call('EXPIRE', KEYS[1], reset + 1)
return {1, used, reset}
