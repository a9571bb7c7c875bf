using MassTransit;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using Reference.Contracts;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Products;

/// <summary>
/// Every write to a product except reserved stock (that is <see cref="Reservations.StockReservations"/>).
/// Each write invalidates the product's cache entries itself, so no caller can forget to, and each
/// write that takes images off a product announces them (<see cref="ImageDeleted"/>) so UploadApi
/// removes their files.
/// </summary>
public sealed partial class ProductCatalog(
    InventoryDbContext db,
    ProductCache cache,
    IPublishEndpoint publish,
    TimeProvider clock,
    ILogger<ProductCatalog> logger)
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    public async Task<ProductWrite> CreateAsync(CreateProductRequest request, CancellationToken cancellationToken)
    {
        // Checked first so the common case needs no failed INSERT; the unique index still decides races.
        if (await db.Products.AnyAsync(p => p.Sku == request.Sku, cancellationToken))
        {
            return ProductWrite.SkuTaken;
        }

        var now = clock.GetUtcNow();
        var product = new Product
        {
            Id = Guid.CreateVersion7(),
            Sku = request.Sku!,
            Name = request.Name!.Trim(),
            Description = request.Description?.Trim() ?? "",
            Category = request.Category!.Trim(),
            Price = request.Price!.Value,
            Currency = request.Currency!,
            OnHand = request.Stock ?? 0,
            CreatedAt = now,
            UpdatedAt = now,
            Version = 1,
        };
        db.Products.Add(product);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (IsDuplicateKey(e))
        {
            return ProductWrite.SkuTaken;
        }

        await cache.InvalidateAsync(product.Id);
        return ProductWrite.Done(ProductResponse.From(product));
    }

    /// <param name="ifMatch">The version the caller read; -1 for any version.</param>
    public async Task<ProductWrite> UpdateAsync(Guid id, int ifMatch, UpdateProductRequest request, CancellationToken cancellationToken)
    {
        var product = await db.Products.Include(p => p.Images).FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (product is null)
        {
            return ProductWrite.NotFound;
        }

        if (ifMatch != -1 && ifMatch != product.Version)
        {
            return ProductWrite.Stale(product.Version);
        }

        if (await db.Products.AnyAsync(p => p.Sku == request.Sku && p.Id != id, cancellationToken))
        {
            return ProductWrite.SkuTaken;
        }

        product.Sku = request.Sku!;
        product.Name = request.Name!.Trim();
        product.Description = request.Description?.Trim() ?? "";
        product.Category = request.Category!.Trim();
        product.Price = request.Price!.Value;
        product.Currency = request.Currency!;
        product.UpdatedAt = clock.GetUtcNow();
        // The concurrency token makes the UPDATE conditional on the version just checked.
        product.Version++;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ProductWrite.Stale(null);
        }
        catch (DbUpdateException e) when (IsDuplicateKey(e))
        {
            return ProductWrite.SkuTaken;
        }

        await cache.InvalidateAsync(id);
        return ProductWrite.Done(ProductResponse.From(product));
    }

    /// <param name="ifMatch">The version the caller read; null or -1 for any version.</param>
    public async Task<ProductWrite> DeleteAsync(Guid id, int? ifMatch, CancellationToken cancellationToken)
    {
        // Read before the delete cascades to them; one attached in between is left to the retention sweep.
        var uploadIds = await db.ProductImages.Where(i => i.ProductId == id).Select(i => i.UploadId).ToListAsync(cancellationToken);
        var deleted = await db.Products
            .Where(p => p.Id == id && p.Reserved == 0 && (ifMatch == null || ifMatch == -1 || p.Version == ifMatch))
            .ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            var current = await db.Products.AsNoTracking().Where(p => p.Id == id)
                .Select(p => new { p.Reserved, p.Version }).FirstOrDefaultAsync(cancellationToken);
            if (current is null)
            {
                return ProductWrite.NotFound;
            }

            return ifMatch is not (null or -1) && ifMatch != current.Version
                ? ProductWrite.Stale(current.Version)
                : ProductWrite.HasReservations(current.Reserved);
        }

        await cache.InvalidateAsync(id);
        await AnnounceDeletedAsync(id, uploadIds);
        return ProductWrite.Done(null);
    }

    /// <summary>Adds <paramref name="delta"/> to on-hand; refused when it would leave less than is reserved.</summary>
    public async Task<ProductWrite> AdjustStockAsync(Guid id, int delta, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        // Conditional, so two concurrent removals can never take available stock below zero.
        var updated = await db.Products
            .Where(p => p.Id == id && p.OnHand + delta >= p.Reserved && p.OnHand + delta <= ProductFields.MaxQuantity * 10)
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.OnHand, p => p.OnHand + delta)
                .SetProperty(p => p.Version, p => p.Version + 1)
                .SetProperty(p => p.UpdatedAt, now), cancellationToken);

        if (updated == 1)
        {
            await cache.InvalidateAsync(id);
        }

        var product = await FindAsync(id, cancellationToken);
        return product is null ? ProductWrite.NotFound
            : updated == 0 ? ProductWrite.StockRefused(product)
            : ProductWrite.Done(product);
    }

    /// <summary>The product as stored now, past the cache.</summary>
    public async Task<ProductResponse?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        var product = await db.Products.AsNoTracking().Include(p => p.Images).FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        return product is null ? null : ProductResponse.From(product);
    }

    private static bool IsDuplicateKey(DbUpdateException e) =>
        e.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };
}
