using MassTransit;
using Microsoft.EntityFrameworkCore;
using Reference.Contracts;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Storage;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

/// <summary>
/// An image was taken off its product: the upload becomes Deleted first (so no late result revives it),
/// then its original and variants leave storage and the gateway answers 404 for them.
/// </summary>
public sealed class ImageDeletedConsumer(
    UploadDbContext db, UploadTransitions transitions, UploadFiles files, ILogger<ImageDeletedConsumer> logger) : IConsumer<ImageDeleted>
{
    public async Task Consume(ConsumeContext<ImageDeleted> context)
    {
        var message = context.Message;
        var upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == message.UploadId, context.CancellationToken);
        if (upload is null || upload.ProductId != message.ProductId)
        {
            // Only an upload made for that product: a wrong product id in the DELETE removes nothing.
            logger.LogWarning("Upload {UploadId} is not an image of product {ProductId}; nothing removed.", message.UploadId, message.ProductId);
            return;
        }

        await transitions.MarkDeletedAsync(upload.Id, context.CancellationToken);
        await files.DeleteVariantsAsync(upload.Id, context.CancellationToken);
        await files.DeleteOriginalAsync(upload.OriginalKey, context.CancellationToken);
        logger.LogInformation("Upload {UploadId} of product {ProductId} deleted with its files.", upload.Id, upload.ProductId);
    }
}
