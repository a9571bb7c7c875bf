namespace Reference.InventoryApi.Model;

/// <summary>One processed upload attached to a product: its variants (thumb, card, detail…) in one set.</summary>
public sealed class ProductImage
{
    public long Id { get; set; }
    public Guid ProductId { get; set; }

    /// <summary>The upload the variants came from; unique per product, which makes attaching idempotent.</summary>
    public Guid UploadId { get; set; }

    /// <summary>Order on the product page, 0 first.</summary>
    public int Position { get; set; }

    public string Alt { get; set; } = "";
    public List<ImageVariant> Variants { get; set; } = [];

    /// <summary>The worker's blurred preview, a <c>data:image/…</c> URI shown until a variant loads; null for older images.</summary>
    public string? Placeholder { get; set; }

    /// <summary>The worker's are under 600 characters; anything longer is not stored.</summary>
    public const int PlaceholderMaxLength = 1000;
    public DateTimeOffset CreatedAt { get; set; }
}

/// <param name="Key">Relative to the variants folder, e.g. <c>{uploadId}/card.jpg</c>; served at <c>/images/{Key}</c>.</param>
public sealed record ImageVariant(string Name, int Width, int Height, string Format, long Bytes, string Key);
