using MassTransit;
using Reference.Contracts;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// <see cref="MessageEndpoints.WebpVariantsQueue"/>, bound to <see cref="ImageProcessed"/>: one copy at a time per
/// worker process, so the background pass takes at most one core from the uploads' jobs, and none while it waits.
/// </summary>
public sealed class WebpCopiesConsumerDefinition : ConsumerDefinition<WebpCopiesConsumer>
{
    public WebpCopiesConsumerDefinition()
    {
        EndpointName = MessageEndpoints.WebpVariantsQueue;
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WebpCopiesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.PrefetchCount = 1;
        }

        // Nobody acts on a failed copy (the upload is Ready either way): no Fault event, only the _error queue.
        endpointConfigurator.PublishFaults = false;
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));
    }
}
