using MassTransit;
using Microsoft.EntityFrameworkCore;
using Reference.Contracts;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Products;

/// <summary>The products' images: attached as their uploads become Ready, taken off (their files removed) on request.</summary>
public sealed partial class ProductCatalog
{
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
                Placeholder = message.Placeholder is { Length: <= ProductImage.PlaceholderMaxLength } placeholder
                    && placeholder.StartsWith("data:image/", StringComparison.Ordinal) ? placeholder : null,
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
