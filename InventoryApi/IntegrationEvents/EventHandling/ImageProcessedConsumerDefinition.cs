using MassTransit;

namespace Reference.InventoryApi.IntegrationEvents.EventHandling;

public sealed class ImageProcessedConsumerDefinition : ConsumerDefinition<ImageProcessedConsumer>
{
    public ImageProcessedConsumerDefinition()
    {
        // Named for this service: another service consuming ImageProcessed gets its own queue
        // (and its own copy of each message) instead of competing with this one for them.
        EndpointName = "inventory-image-processed";
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ImageProcessedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // MySQL restarting or a lock wait: worth a few tries before the message goes to the error queue.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(200, 1000, 5000, 15000));
    }
}
