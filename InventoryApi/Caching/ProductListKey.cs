using System.Text.RegularExpressions;

namespace Reference.InventoryApi.Caching;

/// <summary>
/// The cache key of a product list page, normalised so that variants of one query share one entry:
/// search text and category in lower case with single spaces (MySQL compares them case-insensitively
/// anyway), and only the page sizes the shop's pages ask for. Other sizes and deep pages are read
/// from MySQL: the answer is the same, only not cached.
/// </summary>
public readonly partial record struct ProductListKey(string Value, bool Cacheable)
{
    public static readonly IReadOnlySet<int> CachedPageSizes = new HashSet<int> { 12, 24, 48, 96 };
    public const int MaxCachedPage = 20;

    public static ProductListKey For(int page, int pageSize, string? category, string? search)
    {
        var cacheable = CachedPageSizes.Contains(pageSize) && page <= MaxCachedPage;
        // Escaped, so no category and search text can run together into another pair's key.
        var value = $"products:{page}:{pageSize}:{Uri.EscapeDataString(Normalise(category) ?? "")}:{Uri.EscapeDataString(Normalise(search) ?? "")}";
        return new ProductListKey(value, cacheable);
    }

    /// <summary>Trimmed, runs of white space as one space, lower case; null for nothing.</summary>
    public static string? Normalise(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null : WhiteSpace().Replace(text.Trim(), " ").ToLowerInvariant();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
