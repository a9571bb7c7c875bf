namespace Reference.InventoryApi.Model;

/// <summary>Something for sale, with its stock. <see cref="Version"/> changes on every staff write, stock
/// adjustments included, but not when shoppers hold or buy stock: it is the optimistic-concurrency token of edits.</summary>
public sealed class Product
{
    public Guid Id { get; set; }
    public required string Sku { get; set; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public required string Category { get; set; }
    public decimal Price { get; set; }

    /// <summary>ISO 4217 code, e.g. EUR.</summary>
    public required string Currency { get; set; }

    public int OnHand { get; set; }

    /// <summary>Held by Pending reservations; never more than <see cref="OnHand"/>.</summary>
    public int Reserved { get; set; }

    public int Available => OnHand - Reserved;

    public List<ProductImage> Images { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int Version { get; set; }
}
