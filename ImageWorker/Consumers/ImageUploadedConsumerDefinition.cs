using MassTransit;
using Reference.Contracts;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// The <see cref="MessageEndpoints.ImageUploadedQueue"/> queue with MassTransit's default topology.
/// UploadApi declares the same at its start, so the settings here must stay the defaults.
/// </summary>
public sealed class ImageUploadedConsumerDefinition : ConsumerDefinition<ImageUploadedConsumer>
{
    /// <summary>The work is CPU-bound and single-threaded per job: one job per core.</summary>
    public static int ConcurrentJobs => Environment.ProcessorCount;

    public ImageUploadedConsumerDefinition()
    {
        EndpointName = MessageEndpoints.ImageUploadedQueue;
        ConcurrentMessageLimit = ConcurrentJobs;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ImageUploadedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            // No more unacknowledged jobs than it works on at once, so an idle replica gets the next one.
            rabbit.PrefetchCount = ConcurrentJobs;
        }

        // Transient failures only (permanent ones never throw): a few seconds, far inside RabbitMQ's consumer timeout.
        endpointConfigurator.UseMessageRetry(retry =>
            retry.Intervals(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)));
    }
}
