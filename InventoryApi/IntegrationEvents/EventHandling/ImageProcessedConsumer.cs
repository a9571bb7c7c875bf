using MassTransit;
using Microsoft.EntityFrameworkCore;
using Reference.Contracts;
using Reference.InventoryApi.Apis;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.IntegrationEvents.EventHandling;

/// <summary>
/// Attaches a processed upload's variants to its product, last in the product's image order.
/// Delivery is at-least-once, so the same message may come twice, even to two replicas at once:
/// the unique (product, upload) key makes the second attach a no-op.
/// </summary>
public sealed class ImageProcessedConsumer(
    InventoryDbContext db,
    ProductCache cache,
    TimeProvider clock,
    ILogger<ImageProcessedConsumer> logger) : IConsumer<ImageProcessed>
{
    public async Task Consume(ConsumeContext<ImageProcessed> context)
    {
        var message = context.Message;
        if (message.ProductId is not { } productId)
        {
            return; // An upload for no product: nothing to attach it to.
        }

        bool? attached = await db.Database.CreateExecutionStrategy().ExecuteAsync(async ct =>
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
                logger.LogInformation("Upload {UploadId} is for product {ProductId}, which no longer exists.", message.UploadId, productId);
                return (bool?)null;
            }

            if (await db.ProductImages.AnyAsync(i => i.ProductId == productId && i.UploadId == message.UploadId, ct))
            {
                await transaction.RollbackAsync(ct);
                return false;
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
            catch (DbUpdateException e) when (ProductsApi.IsDuplicateKey(e))
            {
                return false;
            }

            await transaction.CommitAsync(ct);
            return true;
        }, context.CancellationToken);

        if (attached == true)
        {
            await cache.InvalidateAsync(productId);
            logger.LogInformation("Attached upload {UploadId} to product {ProductId}.", message.UploadId, productId);
        }
        else if (attached == false)
        {
            logger.LogInformation("Upload {UploadId} is already on product {ProductId}: a repeated delivery, ignored.", message.UploadId, productId);
        }
    }
}
