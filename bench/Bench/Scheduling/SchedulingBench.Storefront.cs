using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.AppHost.Scaling;
using Reference.Bench.Report;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Bench.Scheduling;

/// <summary>The storefront under the bench: its settings, its worker pool, and what it holds in memory.</summary>
public static partial class SchedulingBench
{
    private static void Configure(IDistributedApplicationTestingBuilder builder)
    {
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting", LogLevel.Critical)
            .AddFilter("Reference.AppHost.Resources", LogLevel.None));
        foreach (var resource in builder.Resources.OfType<ProjectResource>())
        {
            var project = builder.CreateResourceBuilder(resource)
                // As deploy/compose.yaml ships it: one trace in ten.
                .WithEnvironment("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
                .WithEnvironment("OTEL_TRACES_SAMPLER_ARG", "0.1");
            if (resource.Name == "gateway")
            {
                // The defaults (20 uploads a minute per client) would answer the burst with 429s.
                project.WithEnvironment("Gateway__UploadRateLimit__PermitLimit", "1000000000")
                    .WithEnvironment("Gateway__AdminUploadRateLimit__PermitLimit", "1000000000")
                    .WithEnvironment("Gateway__ApiRateLimit__PermitLimit", "1000000000")
                    .WithEnvironment("Gateway__AdminApiRateLimit__PermitLimit", "1000000000");
            }
        }
    }

    private static async Task<IdleMemory> MeasureIdleMemoryAsync(
        DistributedApplication app, StorefrontClient client, byte[] photo, Pool pool, IReadOnlyList<string> services, Settings settings, Action<string> log)
    {
        await pool.UntilEmptyAsync(settings.IdleTimeout + TimeSpan.FromMinutes(1));
        await Task.Delay(2000);
        var zero = services.Sum(s => TreeMb(app, s));
        // Two workers up and idle after a job each: the scaler paused so they stay.
        var scaler = app.Services.GetRequiredService<WorkerScaler>();
        await scaler.StopAsync(CancellationToken.None);
        await pool.StartAllAsync(2);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => UploadAndWaitAsync(client, photo)));
        await Task.Delay(5000);
        var trees = pool.Running().Take(2).Select(w => Math.Round(TreeMb(app, w), 1)).ToList();
        var two = services.Sum(s => TreeMb(app, s)) + trees.Sum();
        log($"scheduling: idle storefront {zero:0} MB with no worker, {two:0} MB with two idle workers ({string.Join(" + ", trees)} MB)");
        await scaler.StartAsync(CancellationToken.None);
        return new IdleMemory(Math.Round(zero), Math.Round(two), trees);
    }

    /// <summary>Resident MB of a resource's process and its children (a <c>dotnet run</c> launcher's service); 0 when it runs none.</summary>
    private static double TreeMb(DistributedApplication app, string resource)
    {
        if (!app.ResourceNotifications.TryGetCurrentState(resource, out var current)
            || current.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is not { } value
            || !int.TryParse(value.ToString(), out var pid))
        {
            return 0;
        }

        double Tree(int id)
        {
            try
            {
                var children = Directory.EnumerateDirectories($"/proc/{id}/task")
                    .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    .Select(int.Parse);
                return Machine.Memory(id).CurrentMb + children.Sum(Tree);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return 0; // it ended meanwhile
            }
        }

        return Tree(pid);
    }

    /// <summary>The worker resources as the dashboard shows them.</summary>
    private sealed class Pool(DistributedApplication app, IReadOnlyList<string> workers)
    {
        private static readonly string[] Down = [KnownResourceStates.NotStarted, KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart];

        public List<string> Running() => workers
            .Where(w => app.ResourceNotifications.TryGetCurrentState(w, out var e) && e.Snapshot.State?.Text is { } s && !Down.Contains(s))
            .ToList();

        public Task UntilEmptyAsync(TimeSpan timeout) => UntilAtMostAsync(0, timeout);

        /// <summary>Until the scaler has stopped every worker above <paramref name="floor"/>.</summary>
        public async Task UntilAtMostAsync(int floor, TimeSpan timeout)
        {
            if (!await Poll.UntilAsync(() => Running().Count <= floor, timeout))
            {
                throw new TimeoutException($"The pool did not go back to {floor} in {timeout}: {string.Join(", ", Running())} still up.");
            }
        }

        public async Task StartAllAsync(int? count = null)
        {
            var commands = app.Services.GetRequiredService<ResourceCommandService>();
            foreach (var worker in workers.Take(count ?? workers.Count).Where(w => !Running().Contains(w)))
            {
                await commands.ExecuteCommandAsync(worker, KnownResourceCommands.StartCommand);
            }

            using var up = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            foreach (var worker in workers.Take(count ?? workers.Count))
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(worker, up.Token);
            }
        }
    }
}
