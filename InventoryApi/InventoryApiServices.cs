using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Reference.InventoryApi;
using Reference.InventoryApi.Caching;
using Reference.InventoryApi.Infrastructure;
using Reference.InventoryApi.IntegrationEvents.EventHandling;
using Reference.InventoryApi.Products;
using Reference.InventoryApi.Reservations;

namespace Microsoft.Extensions.Hosting;

/// <summary>Everything InventoryApi registers, and the request body limit its pipeline applies.</summary>
internal static class InventoryApiServices
{
    /// <summary>No request to this service needs more; larger bodies get 413.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.RequireAdminKeyConfigured();
        var services = builder.Services;
        services.AddOptions<InventoryOptions>().Bind(builder.Configuration.GetSection(InventoryOptions.Section));
        services.AddSingleton(TimeProvider.System);

        // Cached reads still answer while MySQL is down: degraded, not out of the gateway's rotation.
        builder.AddMySqlDbContext<InventoryDbContext>("inventorydb", unreachableStatus: HealthStatus.Degraded);
        // Migrations are the one-shot set-up's job (--migrate); in-process tests have none and ask for them here,
        // registered before the bus so they are applied before the first message is consumed.
        if (builder.Configuration.GetValue(DatabaseSetup.MigrateAtStartKey, false))
        {
            services.AddHostedService<DatabaseInitializer>();
        }

        builder.AddDegradableRedisClient("cache");
        services.AddHealthChecks().AddRedisHealthCheck("redis", "product reads go to MySQL");
        services.AddSingleton<ProductCache>();
        services.AddHostedService<PendingInvalidationFlusher>();

        services.AddScoped<ProductCatalog>();
        services.AddScoped<StockReservations>();
        services.AddHostedService<ReservationSweeper>();

        // Products are served and sold while the broker is away; only image attachment waits.
        builder.AddMessaging(
            endpointPrefix: "Inventory",
            bus => bus.AddConsumer<ImageProcessedConsumer>(typeof(ImageProcessedConsumerDefinition)),
            unreachableStatus: HealthStatus.Degraded);

        services.AddProblemResponses();
        // Malformed JSON and bad parameters become BadHttpRequestException, which ProblemExceptionHandler
        // turns into a 400 ProblemDetails instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        services.AddOpenApi();
    }

    /// <summary>
    /// 413 for a declared body over the limit before anything reads it. Kestrel enforces the same
    /// limit on bodies without a length; this also covers hosts that do not (the test server).
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) =>
        app.Use((http, next) =>
        {
            if (http.Request.ContentLength > MaxRequestBodyBytes)
            {
                throw new BadHttpRequestException(
                    $"The request body is larger than {MaxRequestBodyBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
            }

            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = MaxRequestBodyBytes;
            }

            return next(http);
        });
}
