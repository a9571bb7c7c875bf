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

        if (await catalog.AttachImageAsync(productId, message, context.CancellationToken))
        {
            logger.LogInformation("Attached upload {UploadId} to product {ProductId}.", message.UploadId, productId);
        }
    }
}
