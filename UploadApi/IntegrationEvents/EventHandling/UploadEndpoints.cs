using MassTransit;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

/// <summary>What the receive endpoints of UploadApi's consumers share.</summary>
internal static class UploadEndpoints
{
    /// <summary>
    /// Prefixed, because other services consume the same events (InventoryApi takes
    /// ImageProcessed too): with MassTransit's default names both would share one queue and
    /// each event would reach only one of them.
    /// </summary>
    public static string Name(string messageName) => "upload-api-" + messageName;

    public static void Configure(IReceiveEndpointConfigurator endpoint) =>
        // Each message is one short UPDATE: a brief retry rides out a database blip or failover.
        endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 2000));
}
