using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Reference.InventoryApi.Caching;

/// <summary>
/// Product reads through Redis, shared by every replica. Entries are versioned, not deleted: an entry is
/// stored under the generation read before loading it, and a write bumps the generation after it commits,
/// so a read that raced a write stores its stale value where nobody reads. Without Redis, reads go to
/// MySQL and unsent invalidations are retried (Redis keeps its data over a restart).
/// </summary>
public sealed class ProductCache(
    IConnectionMultiplexer redis,
    IOptions<InventoryOptions> options,
    ILogger<ProductCache> logger)
{
    // The version in the prefix retires every entry when the shape of what is cached changes.
    private const string Prefix = "inventory:v1:";
    private const string ListsGenerationKey = Prefix + "gen:lists";
    private const string ListsStoredKey = Prefix + "lists-stored";

    // One round trip: the generation and the entry stored under it.
    private const string ReadScript = """
        local generation = redis.call('GET', KEYS[1]) or '0'
        return { generation, redis.call('GET', ARGV[1] .. generation) }
        """;

    // Counts list entries stored in the current window (CacheTtl long, so at most two windows' worth live at once).
    private const string StoreListScript = """
        local stored = redis.call('INCR', KEYS[1])
        if stored == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
        if stored > tonumber(ARGV[4]) then return 0 end
        redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<Guid, byte> _pendingProducts = new();
    private volatile bool _pendingLists;

    private bool Enabled => options.Value.CacheProducts;

    public Task<T?> GetProductAsync<T>(Guid productId, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class =>
        GetOrLoadAsync(ProductGenerationKey(productId), $"{Prefix}product:{productId:N}:", load,
            bypass: _pendingProducts.ContainsKey(productId), cancellationToken);

    /// <param name="query">What identifies the list (page, size, filters); part of the key.</param>
    public Task<T?> GetListAsync<T>(string query, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class =>
        GetOrLoadAsync(ListsGenerationKey, $"{Prefix}list:{query}:", load, bypass: _pendingLists, cancellationToken, options.Value.ListCacheTtl, boundedList: true);

    /// <summary>A page of the product list; read straight from MySQL when <paramref name="key"/> says it is not cached.</summary>
    public Task<T?> GetProductListAsync<T>(ProductListKey key, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class =>
        key.Cacheable ? GetListAsync(key.Value, load, cancellationToken) : load(cancellationToken);

    /// <summary>
    /// The id last seen for a SKU, or null. Only a hint: a SKU can move to another product, so the
    /// caller checks the product it loads still has this SKU. Kept out of the generations for that reason.
    /// </summary>
    public async Task<Guid?> GetIdBySkuAsync(string sku)
    {
        if (!Enabled)
        {
            return null;
        }

        try
        {
            var id = await redis.GetDatabase().StringGetAsync(SkuKey(sku));
            return Guid.TryParse((string?)id, out var parsed) ? parsed : null;
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            return null;
        }
    }

    public async Task RememberSkuAsync(string sku, Guid id)
    {
        if (!Enabled)
        {
            return;
        }

        try
        {
            await redis.GetDatabase().StringSetAsync(SkuKey(sku), id.ToString("N"), options.Value.CacheTtl);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogDebug("Cache write skipped, Redis unreachable: {Message}", e.Message);
        }
    }

    /// <summary>After a committed write: the products' entries and every list page become stale.</summary>
    /// <param name="lists">False for a change of stock figures only (a shopper's hold): list pages keep
    /// their entries and show stock up to <see cref="InventoryOptions.ListCacheTtl"/> old.</param>
    public async Task InvalidateAsync(IEnumerable<Guid> productIds, bool lists = true)
    {
        var ids = productIds.Distinct().ToList();
        try
        {
            await SendInvalidationAsync(ids, lists);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogWarning("Cache invalidation deferred, Redis unreachable: {Message}", e.Message);
            foreach (var id in ids)
            {
                _pendingProducts.TryAdd(id, 0);
            }

            _pendingLists |= lists;
        }
    }

    public Task InvalidateAsync(Guid productId) => InvalidateAsync([productId]);

    /// <summary>Sends the invalidations that failed while Redis was down; true when none are left.</summary>
    public async Task<bool> FlushPendingInvalidationsAsync()
    {
        if (!_pendingLists && _pendingProducts.IsEmpty)
        {
            return true;
        }

        var ids = _pendingProducts.Keys.ToList();
        try
        {
            _pendingLists = false;
            await SendInvalidationAsync(ids, lists: true);
            foreach (var id in ids)
            {
                _pendingProducts.TryRemove(id, out _);
            }

            logger.LogInformation("Sent {Count} deferred cache invalidations.", ids.Count);
            return _pendingProducts.IsEmpty;
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            _pendingLists = true;
            return false;
        }
    }

    private async Task<T?> GetOrLoadAsync<T>(
        string generationKey, string entryPrefix, Func<CancellationToken, Task<T?>> load, bool bypass, CancellationToken cancellationToken,
        TimeSpan? ttl = null, bool boundedList = false)
        where T : class
    {
        // Bypassed too while this replica still owes Redis an invalidation for the entry.
        if (!Enabled || bypass)
        {
            return await load(cancellationToken);
        }

        string generation;
        try
        {
            var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(ReadScript, [generationKey], [entryPrefix]))!;
            generation = (string)result[0]!;
            var cached = (byte[]?)result[1];
            if (cached is not null)
            {
                return JsonSerializer.Deserialize<T>(cached, Json);
            }
        }
        catch (JsonException e)
        {
            logger.LogWarning("Unreadable cache entry under {Prefix}, read from MySQL instead: {Message}", entryPrefix, e.Message);
            return await load(cancellationToken);
        }
        catch (Exception e) when (RedisFailure.Is(e))
        {
            logger.LogDebug("Cache read skipped, Redis unreachable: {Message}", e.Message);
            return await load(cancellationToken);
        }

        var value = await load(cancellationToken);
        if (value is not null)
        {
            try
            {
                var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Json);
                var lifetime = ttl ?? options.Value.CacheTtl;
                if (boundedList)
                {
                    await redis.GetDatabase().ScriptEvaluateAsync(StoreListScript, [ListsStoredKey, entryPrefix + generation],
                        [bytes, (long)lifetime.TotalMilliseconds, (long)lifetime.TotalMilliseconds, options.Value.MaxCachedLists]);
                }
                else
                {
                    await redis.GetDatabase().StringSetAsync(entryPrefix + generation, bytes, lifetime);
                }
            }
            catch (Exception e) when (RedisFailure.Is(e))
            {
                logger.LogDebug("Cache write skipped, Redis unreachable: {Message}", e.Message);
            }
        }

        return value;
    }

    private async Task SendInvalidationAsync(IReadOnlyCollection<Guid> productIds, bool lists)
    {
        var db = redis.GetDatabase();
        var increments = productIds.Select(id => db.StringIncrementAsync(ProductGenerationKey(id))).ToList();
        if (lists)
        {
            increments.Add(db.StringIncrementAsync(ListsGenerationKey));
        }

        await Task.WhenAll(increments);
    }

    private static string SkuKey(string sku) => $"{Prefix}sku:{sku.ToUpperInvariant()}";

    private static string ProductGenerationKey(Guid productId) => $"{Prefix}gen:product:{productId:N}";
}
