using Microsoft.Extensions.Diagnostics.HealthChecks;
using MassTransit;
using Reference.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Intake;
using Reference.UploadApi.IntegrationEvents.EventHandling;
using Reference.UploadApi.Model;
using Reference.UploadApi.Operations;
using Reference.UploadApi.StatusFeed;
using Reference.UploadApi.Storage;
using Reference.UploadApi.Sweeping;
using StackExchange.Redis;

namespace Reference.UploadApi;

/// <summary>Everything UploadApi registers: its options, database, storage, sweeper and consumers.</summary>
public static class UploadApiServices
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemResponses();
        builder.Services.AddExceptionHandler<StorageUnavailableHandler>();

        builder.RequireAdminKeyConfigured();
        builder.Services.AddOptions<ImageStorage>().BindConfiguration(ImageStorage.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Root), "Storage:Root is not set.")
            .ValidateOnStart();
        builder.Services.AddOptions<UploadOptions>().BindConfiguration(UploadOptions.Section);
        builder.Services.AddOptions<SweeperOptions>().BindConfiguration(SweeperOptions.Section);
        builder.Services.TryAddSingleton(TimeProvider.System);

        builder.AddMySqlDbContext<UploadDbContext>("uploaddb");
        // Redis only carries the status feed's wake-ups: down or stalled, uploads go on (Degraded, still in
        // the gateway's rotation), and every call fails within a second instead of queueing.
        builder.AddRedisClient("cache",
            settings => settings.DisableHealthChecks = true,
            redis =>
            {
                redis.AbortOnConnectFail = false;
                redis.BacklogPolicy = BacklogPolicy.FailFast;
                redis.ConnectTimeout = 2000;
                redis.SyncTimeout = 1000;
                redis.AsyncTimeout = 1000;
                redis.ReconnectRetryPolicy = new LinearRetry(1000);
            });
        builder.Services.AddHealthChecks().AddCheck<StatusFeedHealthCheck>("status-feed", HealthStatus.Degraded, timeout: TimeSpan.FromSeconds(1));

        builder.Services.AddSingleton<OriginalStore>();
        builder.Services.AddScoped<UploadTransitions>();
        builder.Services.AddScoped<UploadIntake>();
        builder.Services.AddSingleton<UploadStatusFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UploadStatusFeed>());
        // Before the sweeper, whose first publishes need the worker's queue in place.
        builder.Services.AddHostedService<ImageUploadedTopology>();
        builder.Services.AddHostedService<UploadSweeper>();

        // The operations console (Apis/OperationsApi.cs).
        builder.Services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.Section);
        builder.Services.AddSingleton<UploadHistory>();
        builder.Services.AddSingleton<WorkerRegistry>();
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
            },
            // Uploads still get their 202 while the broker is away: the sweeper publishes later.
            unreachableStatus: HealthStatus.Degraded);
    }
}
