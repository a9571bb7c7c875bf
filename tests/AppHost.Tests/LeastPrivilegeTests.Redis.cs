using StackExchange.Redis;

namespace Reference.AppHost.Tests;

/// <summary>Redis: each service's user within its keys and channels, and the cache's bound.</summary>
public sealed partial class LeastPrivilegeTests
{
    [Fact]
    public async Task Each_services_redis_user_keeps_to_its_own_keys_and_channels()
    {
        await using var worker = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("imageworker"));
        await using var inventory = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("inventoryapi"));
        await using var upload = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("uploadapi"));

        await RedisAllowed("imageworker counts an attempt", worker, "INCR", "imageworker:attempts:probe");
        await RedisAllowed("inventoryapi caches a product", inventory, "SET", "inventory:v1:product:probe", "{}");
        await RedisAllowed("uploadapi publishes a status change", upload, "PUBLISH", "uploads:status", "probe");
        await RedisRefused("imageworker reads the product cache", worker, "GET", "inventory:v1:product:probe");
        await RedisRefused("imageworker overwrites the product cache", worker, "SET", "inventory:v1:gen:lists", "0");
        await RedisRefused("inventoryapi reads the attempt counters", inventory, "GET", "imageworker:attempts:probe");
        await RedisRefused("inventoryapi reads another key through a script", inventory, "EVAL", "return redis.call('GET', ARGV[1])", "0", "imageworker:attempts:probe");
        await RedisRefused("uploadapi reads any key", upload, "GET", "inventory:v1:product:probe");
        await RedisRefused("uploadapi publishes elsewhere", upload, "PUBLISH", "other:channel", "probe");
        await RedisRefused("imageworker flushes everything", worker, "FLUSHALL");
        await RedisRefused("inventoryapi lists every key", inventory, "KEYS", "*");
        await RedisRefused("inventoryapi reconfigures the server", inventory, "CONFIG", "SET", "maxmemory", "0");
    }

    [Fact]
    public async Task The_cache_cannot_grow_past_maxmemory_and_keeps_the_keys_without_a_lifetime()
    {
        await using var admin = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionString + ",allowAdmin=true");
        await using var inventory = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionStringFor("inventoryapi"));
        var maxMemory = long.Parse((string)(await admin.GetDatabase().ExecuteAsync("CONFIG", "GET", "maxmemory"))[1]!);
        output.WriteLine($"maxmemory {maxMemory / 1024 / 1024} MB, policy {(string)(await admin.GetDatabase().ExecuteAsync("CONFIG", "GET", "maxmemory-policy"))[1]!}");
        Assert.True(maxMemory > 0, "Redis has no memory bound");

        // A generation counter (no lifetime) must outlive the flood; cache entries (with one) may go.
        var db = inventory.GetDatabase();
        await db.StringIncrementAsync("inventory:v1:gen:product:flood-probe");
        var value = new byte[64 * 1024];
        var written = (int)(2 * maxMemory / value.Length);
        for (var batch = 0; batch < written; batch += 100)
        {
            await Task.WhenAll(Enumerable.Range(batch, 100).Select(i =>
                db.StringSetAsync($"inventory:v1:list:flood:{i}", value, TimeSpan.FromMinutes(10))));
        }

        var info = (await admin.GetServers()[0].InfoAsync("memory")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        var stats = (await admin.GetServers()[0].InfoAsync("stats")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        var usedMemory = long.Parse(info["used_memory"]);
        output.WriteLine($"wrote {written} entries of 64 KB ({written * 64 / 1024} MB): used_memory {usedMemory / 1024 / 1024} MB, evicted_keys {stats["evicted_keys"]}");

        // One entry's worth of slack: Redis evicts before each write, so it may end a write above the bound.
        Assert.True(usedMemory <= maxMemory + 2 * value.Length, $"used_memory {usedMemory} is past maxmemory {maxMemory}");
        Assert.True(long.Parse(stats["evicted_keys"]) > 0);
        Assert.Equal(1, (long)await db.StringGetAsync("inventory:v1:gen:product:flood-probe"));
    }

    private async Task RedisAllowed(string attempt, ConnectionMultiplexer redis, string command, params object[] args)
    {
        await redis.GetDatabase().ExecuteAsync(command, args);
        output.WriteLine($"allowed: {attempt} ({command} {string.Join(' ', args)})");
    }

    private async Task RedisRefused(string attempt, ConnectionMultiplexer redis, string command, params object[] args)
    {
        var refused = await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase().ExecuteAsync(command, args));
        Assert.Matches("NOPERM|can't access", refused.Message);
        output.WriteLine($"refused: {attempt} ({command} {string.Join(' ', args)}): {refused.Message}");
    }
}
