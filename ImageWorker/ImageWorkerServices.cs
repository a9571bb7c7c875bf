using Reference.ImageWorker.Consumers;
using Reference.ImageWorker.Operations;
using Reference.ImageWorker.Pipeline;

namespace Reference.ImageWorker;

/// <summary>Everything the worker registers: the image pipeline, its attempt counter and its consumer.</summary>
public static class ImageWorkerServices
{
    public const string CacheConnectionName = "cache";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Before any image is decoded: libvips's pixel buffers come from malloc.
        NativeHeap.ReturnLargeBlocks();
        builder.Services.AddOptions<ImageOptions>().BindConfiguration(ImageOptions.SectionName);
        builder.Services.AddOptions<FaultInjectionOptions>().BindConfiguration(FaultInjectionOptions.SectionName);
        builder.AddImageStore();
        builder.Services.AddSingleton<VariantWriter>();

        // Counts attempts per upload (see ProcessingAttempts). The worker goes on while Redis is down,
        // so Redis is not part of its health, but it must be configured.
        _ = builder.Configuration.GetConnectionString(CacheConnectionName) ?? throw new InvalidOperationException(
            $"ConnectionStrings:{CacheConnectionName} is not set. Run the service from the AppHost, or set ConnectionStrings__{CacheConnectionName}.");
        builder.AddDegradableRedisClient(CacheConnectionName);
        builder.Services.AddSingleton<ProcessingAttempts>();
        builder.Services.AddSingleton(sp => new WorkerJobGate(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ImageOptions>>().Value.MemoryBudgetMegabytes * 1024L * 1024));

        // No prefix: every replica takes jobs from the one shared queue, connected by ImageUploadedEndpoint so it can drain.
        // The WebP pass has its own queue, configured from its definition.
        builder.Services.AddSingleton<WebpCopies>();
        builder.AddMessaging(endpointPrefix: null, bus =>
        {
            bus.AddConsumer<ImageUploadedConsumer>(typeof(ImageUploadedConsumerDefinition)).ExcludeFromConfigureEndpoints();
            bus.AddConsumer<WebpCopiesConsumer>(typeof(WebpCopiesConsumerDefinition));
        });

        // The operations console's view of this worker, and its drain (after AddMessaging: the bus starts first).
        builder.Services.AddSingleton<WorkerIdentity>();
        builder.Services.AddSingleton<WorkerJobs>();
        builder.Services.AddSingleton<WorkerDrain>();
        builder.Services.AddSingleton<ImageUploadedEndpoint>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ImageUploadedEndpoint>());
        builder.Services.AddSingleton<WorkerHeartbeats>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WorkerHeartbeats>());
        return builder;
    }
}
