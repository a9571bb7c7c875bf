using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Apis;

public sealed record ProductResponse(
    Guid Id,
    string Sku,
    string Name,
    string Description,
    string Category,
    decimal Price,
    string Currency,
    StockResponse Stock,
    IReadOnlyList<ProductImageResponse> Images,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int Version)
{
    public static ProductResponse From(Product p) => new(
        p.Id, p.Sku, p.Name, p.Description, p.Category, TwoPlaces(p.Price), p.Currency,
        new StockResponse(p.OnHand, p.Reserved, p.OnHand - p.Reserved),
        p.Images.OrderBy(i => i.Position).ThenBy(i => i.Id).Select(ProductImageResponse.From).ToList(),
        p.CreatedAt, p.UpdatedAt, p.Version);

    // The column keeps four places; 49.0000 reads better as 49.00, and 0.1234 keeps its places.
    private static decimal TwoPlaces(decimal price) => decimal.Round(price, 2) == price ? decimal.Round(price, 2) : price;
}

public sealed record StockResponse(int OnHand, int Reserved, int Available);

/// <param name="Placeholder">A blurred preview as a <c>data:</c> URI, for the page to show until the image loads; null when there is none.</param>
public sealed record ProductImageResponse(Guid UploadId, string Alt, IReadOnlyList<ImageVariantResponse> Variants, string? Placeholder)
{
    public static ProductImageResponse From(ProductImage i) => new(
        i.UploadId, i.Alt,
        i.Variants.Select(v => new ImageVariantResponse(v.Name, v.Width, v.Height, v.Format, v.Bytes, "/images/" + v.Key)).ToList(),
        i.Placeholder);
}

public sealed record ImageVariantResponse(string Name, int Width, int Height, string Format, long Bytes, string Url);

public sealed record ProductPage(IReadOnlyList<ProductResponse> Items, int Page, int PageSize, int Total);
