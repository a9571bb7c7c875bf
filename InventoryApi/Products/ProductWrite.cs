using Reference.InventoryApi.Apis;

namespace Reference.InventoryApi.Products;

public enum ProductWriteStatus { Done, NotFound, Stale, SkuTaken, HasReservations, StockRefused }

/// <param name="Product">The product after the write (or as it stands, when stock was refused).</param>
/// <param name="CurrentVersion">When stale: the version now stored, if known.</param>
/// <param name="Reserved">When refused for reservations: the units they hold.</param>
public sealed record ProductWrite(ProductWriteStatus Status, ProductResponse? Product = null, int? CurrentVersion = null, int Reserved = 0)
{
    public static readonly ProductWrite NotFound = new(ProductWriteStatus.NotFound);
    public static readonly ProductWrite SkuTaken = new(ProductWriteStatus.SkuTaken);

    public static ProductWrite Done(ProductResponse? product) => new(ProductWriteStatus.Done, product);

    public static ProductWrite Stale(int? currentVersion) => new(ProductWriteStatus.Stale, CurrentVersion: currentVersion);

    public static ProductWrite HasReservations(int reserved) => new(ProductWriteStatus.HasReservations, Reserved: reserved);

    public static ProductWrite StockRefused(ProductResponse product) => new(ProductWriteStatus.StockRefused, product);
}
