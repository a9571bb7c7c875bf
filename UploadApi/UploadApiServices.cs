using Microsoft.Extensions.Diagnostics.HealthChecks;
using MassTransit;
using Reference.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Intake;
using Reference.UploadApi.IntegrationEvents.EventHandling;
using Reference.UploadApi.Operations;
using Reference.UploadApi.StatusFeed;
using Reference.UploadApi.Storage;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi;

/// <summary>Everything UploadApi registers: its options, database, storage, sweeper and consumers.</summary>
public static class UploadApiServices
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemResponses();
        builder.Services.AddExceptionHandler<StorageUnavailableHandler>();

        builder.RequireAdminKeyConfigured();
        builder.AddImageStore();
        builder.Services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section);
        builder.Services.AddOptions<SweeperOptions>().BindConfiguration(SweeperOptions.Section);
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(ImageStorage.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.AddMySqlDbContext<UploadDbContext>("uploaddb");
        // Redis only carries the status feed's wake-ups: without it uploads go on, and streams wake on their keep-alive.
        builder.AddDegradableRedisClient("cache");
        builder.Services.AddHealthChecks().AddRedisHealthCheck("redis", "status events arrive on the keep-alive")
            .AddCheck<StorageSpaceHealthCheck>("storage-space");

        builder.Services.AddSingleton<OriginalStore>();
        builder.Services.AddSingleton<UploadFiles>();
        builder.Services.AddScoped<UploadTransitions>();
        builder.Services.AddScoped<UploadIntake>();
        builder.Services.AddSingleton<UploadStatusCache>();
        builder.Services.AddSingleton<UploadStatusFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UploadStatusFeed>());
        // Before the sweeper, whose first publishes need the worker's queue in place.
        builder.Services.AddHostedService<ImageUploadedTopology>();
        builder.Services.AddHostedService<UploadSweeper>();
        builder.Services.AddSingleton<StorageSweeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StorageSweeper>());

        // The operations console (Apis/OperationsApi.cs).
        builder.Services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.Section);
        builder.Services.AddSingleton<UploadHistory>();
        builder.Services.AddSingleton<WorkerRegistry>();
        builder.Services.AddSingleton<ScalerDecisions>();
        builder.Services.AddHttpClient<RabbitMqQueues>(http => http.Timeout = TimeSpan.FromSeconds(3));
        builder.Services.AddScoped<UploadsOverview>();
        builder.Services.AddScoped<UploadRetries>();
        builder.Services.AddHostedService<QueueDepthMetrics>();

        builder.AddMessaging(
            endpointPrefix: "UploadApi",
            bus =>
            {
                bus.AddConsumer<ImageProcessingStartedConsumer, UploadConsumerDefinition<ImageProcessingStartedConsumer>>();
                bus.AddConsumer<ImageProcessedConsumer, UploadConsumerDefinition<ImageProcessedConsumer>>();
                bus.AddConsumer<ImageProcessingFailedConsumer, UploadConsumerDefinition<ImageProcessingFailedConsumer>>();
                bus.AddConsumer<ImageUploadedFaultConsumer, UploadConsumerDefinition<ImageUploadedFaultConsumer>>();
                bus.AddConsumer<ImageDeletedConsumer, UploadConsumerDefinition<ImageDeletedConsumer>>();
            },
            // Uploads still get their 202 while the broker is away: the sweeper publishes later.
            unreachableStatus: HealthStatus.Degraded);
    }
}
