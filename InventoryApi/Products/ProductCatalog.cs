using MassTransit;
using Microsoft.EntityFrameworkCore;
using MySqlConnector;
using Reference.Contracts;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Infrastructure.EntityConfigurations;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Products;

/// <summary>
/// Every write to a product except reserved stock (that is <see cref="Reservations.StockReservations"/>).
/// Each write invalidates the product's cache entries itself, so no caller can forget to, and each
/// write that takes images off a product announces them (<see cref="ImageDeleted"/>) so UploadApi
/// removes their files.
/// </summary>
public sealed class ProductCatalog(
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

    /// <summary>
    /// Takes one image off the product and has its files removed. The removal is announced before the
    /// commit: with the broker away nothing changes (the caller may try again), and an image that is not
    /// (or not yet) on the product is never announced, so an upload still in the pipeline keeps its files.
    /// </summary>
    public async Task<ImageRemoval> DeleteImageAsync(Guid productId, Guid uploadId, CancellationToken cancellationToken)
    {
        var removed = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // The version bump also changes the product's ETag, so pages holding the old image revalidate.
            var touched = await db.Products.Where(p => p.Id == productId)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1).SetProperty(p => p.UpdatedAt, clock.GetUtcNow()), ct);
            if (touched == 0)
            {
                return ImageRemoval.NoProduct;
            }

            var deleted = await db.ProductImages.Where(i => i.ProductId == productId && i.UploadId == uploadId).ExecuteDeleteAsync(ct);
            if (deleted == 0)
            {
                await transaction.RollbackAsync(ct);
                return ImageRemoval.NotOnProduct;
            }

            // A commit that fails after this leaves the image listed without files until the DELETE is repeated.
            if (!await AnnounceDeletedAsync(productId, [uploadId]))
            {
                await transaction.RollbackAsync(ct);
                return ImageRemoval.BrokerUnreachable;
            }

            await transaction.CommitAsync(ct);
            return ImageRemoval.Removed;
        }, cancellationToken);

        if (removed == ImageRemoval.Removed)
        {
            await cache.InvalidateAsync(productId);
        }

        return removed;
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

    /// <summary>
    /// Attaches a processed upload's variants, last in the product's image order. Delivery is
    /// at-least-once: the unique (product, upload) key makes a second attach a no-op.
    /// </summary>
    public async Task<ImageAttachment> AttachImageAsync(Guid productId, ImageProcessed message, CancellationToken cancellationToken)
    {
        var attached = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
        {
            db.ChangeTracker.Clear();
            var now = clock.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Bumping the version first also locks the product row, so concurrent attaches to one
            // product take positions one after another.
            var touched = await db.Products.Where(p => p.Id == productId)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.Version, p => p.Version + 1).SetProperty(p => p.UpdatedAt, now), ct);
            if (touched == 0)
            {
                return ImageAttachment.NoProduct;
            }

            if (await db.ProductImages.AnyAsync(i => i.ProductId == productId && i.UploadId == message.UploadId, ct))
            {
                await transaction.RollbackAsync(ct);
                return ImageAttachment.AlreadyAttached;
            }

            var name = await db.Products.Where(p => p.Id == productId).Select(p => p.Name).FirstAsync(ct);
            var position = await db.ProductImages.CountAsync(i => i.ProductId == productId, ct);
            db.ProductImages.Add(new ProductImage
            {
                ProductId = productId,
                UploadId = message.UploadId,
                Position = position,
                // The product's name until someone writes better alt text.
                Alt = name,
                Variants = message.Variants
                    .Select(v => new Model.ImageVariant(v.Name, v.Width, v.Height, v.Format, v.Bytes, v.Key))
                    .ToList(),
                CreatedAt = now,
            });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException e) when (IsDuplicateKey(e))
            {
                return ImageAttachment.AlreadyAttached;
            }

            await transaction.CommitAsync(ct);
            return ImageAttachment.Attached;
        }, cancellationToken);

        if (attached == ImageAttachment.Attached)
        {
            await cache.InvalidateAsync(productId);
        }

        return attached;
    }

    /// <summary>The product as stored now, past the cache.</summary>
    public async Task<ProductResponse?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        var product = await db.Products.AsNoTracking().Include(p => p.Images).FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        return product is null ? null : ProductResponse.From(product);
    }

    /// <returns>False when the broker could not be reached.</returns>
    private async Task<bool> AnnounceDeletedAsync(Guid productId, IReadOnlyList<Guid> uploadIds)
    {
        if (uploadIds.Count == 0)
        {
            return true;
        }

        using var timeout = new CancellationTokenSource(PublishTimeout);
        try
        {
            await Task.WhenAll(uploadIds.Select(u => publish.Publish(new ImageDeleted(u, productId), timeout.Token)));
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogError(e, "The removal of images {UploadIds} of product {ProductId} could not be announced; their files stay.",
                uploadIds, productId);
            return false;
        }
    }

    private static bool IsDuplicateKey(DbUpdateException e) =>
        e.InnerException is MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry };
}

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

/// <summary>What became of a request to take an image off its product.</summary>
public enum ImageRemoval
{
    Removed,
    NotOnProduct,
    NoProduct,

    /// <summary>The broker could not be told to remove its files, so the image stays on the product.</summary>
    BrokerUnreachable,
}

/// <summary>What became of one ImageProcessed: attached, already there (a repeated delivery), or no product to attach it to.</summary>
public enum ImageAttachment
{
    Attached,
    AlreadyAttached,
    NoProduct,
}
