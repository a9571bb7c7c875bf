using MassTransit;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

public sealed class ImageProcessingStartedConsumer(UploadTransitions transitions, IOptions<SweeperOptions> sweeper)
    : IConsumer<ImageProcessingStarted>
{
    public Task Consume(ConsumeContext<ImageProcessingStarted> context) =>
        transitions.MarkProcessingAsync(context.Message.UploadId, sweeper.Value.ProcessingTimeout, context.CancellationToken);
}
