namespace Reference.InventoryApi.Shop;

/// <summary>The <c>Shop</c> configuration section: what one shopper may hold at once.</summary>
public sealed class ShopOptions
{
    public const string Section = "Shop";

    /// <summary>Units of one product a cart, or a client address, may hold or have in unpaid orders.</summary>
    public int MaxUnitsPerProduct { get; set; } = 10;

    /// <summary>Pending holds a cart or a client address may have at once (a cart replaces its own).</summary>
    public int MaxActiveHolds { get; set; } = 3;

    /// <summary>Signs cart tokens; empty derives a key from the admin key, which every replica has.</summary>
    public string? CartTokenKey { get; set; }
}
