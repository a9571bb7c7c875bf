using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.Tests.Storefront;

namespace Reference.Bench.EndToEnd;

public static partial class EndToEndBench
{
    /// <summary>
    /// Where a cold start's cost sits: the first <see cref="Settings.ColdUploads"/> uploads again after restarting only
    /// <paramref name="restart"/> while everything else stays warm (the workers, or the gateway and the APIs).
    /// </summary>
    private static async Task<UploadLoad> UploadsAfterRestartAsync(DistributedApplication app, StorefrontClient client,
        IReadOnlyList<(string Name, byte[] Bytes)> corpus, Settings settings, IReadOnlyList<string> restart, string what, Action<string> log)
    {
        // The backlog of the phases before would otherwise run beside the first uploads of the restarted processes.
        await WaitForWebpPassAsync(client, TimeSpan.FromMinutes(10));

        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        var before = restart.ToDictionary(name => name, name => RunningPid(app, name));
        await Task.WhenAll(restart.Select(async name =>
        {
            var result = await commands.ExecuteCommandAsync(name, KnownResourceCommands.RestartCommand);
            if (!result.Success)
            {
                throw new InvalidOperationException($"{name} was not restarted: {result.Message}");
            }
        }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (restart.Any(name => RunningPid(app, name) is not { } pid || pid == before[name]))
        {
            await Task.Delay(250, timeout.Token);
        }

        await StorefrontHost.WaitUntilHealthyAsync(app, restart, TimeSpan.FromMinutes(2));
        await StorefrontHost.WaitUntilGatewayRoutesAsync(app, AdminKey);

        // As after the first start: the restarted processes settle before the first upload.
        await Task.Delay(TimeSpan.FromSeconds(5));

        // A new connection pool: the old one's connections may end at a gateway that is gone.
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256 };
        using var http = new HttpClient(handler) { BaseAddress = app.GetEndpoint("gateway", "http"), Timeout = TimeSpan.FromSeconds(60) };
        var uploads = await UploadsUnderLoadAsync(app, new StorefrontClient(http, AdminKey), corpus,
            settings with { LoadSeconds = 600, MaxUploads = settings.ColdUploads });
        log($"e2e: first {uploads.Completed} uploads after restarting {what}: {Described(uploads)}");
        return uploads;
    }

    /// <summary>The pid a resource reports while it is Running, else null.</summary>
    private static string? RunningPid(DistributedApplication app, string resource) =>
        app.ResourceNotifications.TryGetCurrentState(resource, out var current) && current.Snapshot.State?.Text == KnownResourceStates.Running
            ? current.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value?.ToString()
            : null;
}
