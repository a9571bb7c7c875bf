namespace Reference.InventoryApi;

/// <summary>The <c>Inventory</c> configuration section.</summary>
public sealed class InventoryOptions
{
    public const string Section = "Inventory";

    /// <summary>Seed the demo catalogue into an empty database at start-up.</summary>
    public bool SeedDemoCatalog { get; set; } = true;

    /// <summary>Product reads through Redis. Off only to measure what the cache is worth.</summary>
    public bool CacheProducts { get; set; } = true;

    /// <summary>A backstop: every write invalidates what it changed long before this.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// List pages are not invalidated by shoppers' holds and orders (only by product writes), so the
    /// stock they show is at most this old; a product's own entry is always current.
    /// </summary>
    public TimeSpan ListCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// At most this many list pages are stored in Redis per <see cref="CacheTtl"/>, whatever the queries: past
    /// it, lists are read from MySQL, so no stream of distinct searches can fill Redis.
    /// </summary>
    public int MaxCachedLists { get; set; } = 2000;

    /// <summary>How long a Pending reservation holds stock.</summary>
    public TimeSpan ReservationTtl { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan ReservationSweepInterval { get; set; } = TimeSpan.FromSeconds(10);
}
