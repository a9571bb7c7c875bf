using MassTransit;
using Reference.Contracts;
using Reference.InventoryApi.Products;

namespace Reference.InventoryApi.IntegrationEvents.EventHandling;

/// <summary>Attaches a processed upload's variants to its product.</summary>
public sealed class ImageProcessedConsumer(ProductCatalog catalog, ILogger<ImageProcessedConsumer> logger) : IConsumer<ImageProcessed>
{
    public async Task Consume(ConsumeContext<ImageProcessed> context)
    {
        var message = context.Message;
        if (message.ProductId is not { } productId)
        {
            return; // An upload for no product: nothing to attach it to.
        }

        // The reliability suite counts these lines to show each delivery's fate: keep their wording.
        switch (await catalog.AttachImageAsync(productId, message, context.CancellationToken))
        {
            case ImageAttachment.Attached:
                logger.LogInformation("Attached upload {UploadId} to product {ProductId}.", message.UploadId, productId);
                break;
            case ImageAttachment.AlreadyAttached:
                logger.LogInformation("Upload {UploadId} is already on product {ProductId}: a repeated delivery, ignored.", message.UploadId, productId);
                break;
            case ImageAttachment.NoProduct:
                logger.LogInformation("Upload {UploadId} is for product {ProductId}, which no longer exists.", message.UploadId, productId);
                break;
        }
    }
}
