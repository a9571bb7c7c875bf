using MassTransit;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// The <c>image-uploaded</c> queue: MassTransit's default topology for the consumer (a durable
/// classic queue, no arguments, bound through the <c>image-uploaded</c> fanout exchange to
/// <c>Reference.Contracts:ImageUploaded</c>). UploadApi declares the same at its start, so the
/// settings here must stay the defaults or both sides change together.
/// </summary>
public sealed class ImageUploadedConsumerDefinition : ConsumerDefinition<ImageUploadedConsumer>
{
    public const string QueueName = "image-uploaded";

    /// <summary>The work is CPU-bound and single-threaded per job: one job per core.</summary>
    public static int ConcurrentJobs => Environment.ProcessorCount;

    public ImageUploadedConsumerDefinition()
    {
        EndpointName = QueueName;
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
