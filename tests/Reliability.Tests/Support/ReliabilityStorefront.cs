using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Reference.Tests.Storefront;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// A whole storefront for fault tests, started by the real AppHost in local mode. Compared with
/// the README's run it only changes what a test of this length needs: the gateway's per-client
/// rate limits are lifted (every request here comes from one address), and the sweeper looks
/// for stuck uploads every few seconds with timeouts of under a minute instead of minutes.
/// </summary>
public class ReliabilityStorefront : IAsyncLifetime
{
    public const string AdminKey = "reliability-admin-key-0123456789abcdef";

    /// <summary>The compose file gives each worker 512 MB; local mode must stay inside it too.</summary>
    public const long WorkerMemoryLimitBytes = 512L * 1024 * 1024;

    public static readonly TimeSpan SweeperInterval = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan SweeperTimeout = TimeSpan.FromSeconds(45);

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("reference-reliability-").FullName;

    public DistributedApplication App { get; private set; } = null!;

    public string ImageStorage => Path.Combine(DataDirectory, "images");

    /// <summary>Our resources (services and backing servers), without Aspire's hidden helpers.</summary>
    public IReadOnlyList<string> Resources { get; private set; } = [];

    public IReadOnlyList<string> Services(string service) =>
        Resources.Where(r => r.StartsWith(service + "-", StringComparison.Ordinal)).ToList();

    /// <summary>Project resources the AppHost must not start by itself (the test starts them).</summary>
    protected virtual IEnumerable<string> ExplicitStart => [];

    public HttpClient CreateGatewayClient() => new()
    {
        BaseAddress = App.GetEndpoint("gateway", "http"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    public StorefrontClient CreateClient() => new(CreateGatewayClient(), AdminKey);

    public async Task InitializeAsync()
    {
        App = await StorefrontHost.StartAsync(DataDirectory, AdminKey, Configure);
        Resources = App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Where(r => r is ProjectResource or IResourceWithConnectionString && !r.Name.EndsWith("-rebuilder", StringComparison.Ordinal))
            .Where(r => !StorefrontHost.IsOneShot(r.Name))
            .Select(r => r.Name)
            .ToList();
        await Faults.WaitUntilRunningAndHealthyAsync(App, Resources.Except(ExplicitStart), TimeSpan.FromMinutes(4));
        await AfterStartAsync();
    }

    protected virtual Task AfterStartAsync() => Task.CompletedTask;

    private void Configure(IDistributedApplicationTestingBuilder builder)
    {
        // Failed health checks and services' error logs are what these tests cause on purpose;
        // the supervisor's own warnings (restarts) stay visible.
        builder.Services.AddLogging(logging => logging
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("AppHost.Resources", LogLevel.None)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Critical));
        var projects = builder.Resources.OfType<ProjectResource>().ToList();
        foreach (var project in projects)
        {
            var resource = builder.CreateResourceBuilder(project);
            if (project.Name == "gateway")
            {
                resource
                    .WithEnvironment("Gateway__ApiRateLimit__PermitLimit", "1000000")
                    .WithEnvironment("Gateway__UploadRateLimit__PermitLimit", "1000000")
                    .WithEnvironment("Gateway__AdminApiRateLimit__PermitLimit", "1000000")
                    .WithEnvironment("Gateway__AdminUploadRateLimit__PermitLimit", "1000000");
            }
            else if (project.Name.StartsWith("uploadapi-", StringComparison.Ordinal))
            {
                resource
                    .WithEnvironment("Uploads__Sweeper__Interval", SweeperInterval.ToString("c"))
                    .WithEnvironment("Uploads__Sweeper__PendingTimeout", SweeperTimeout.ToString("c"))
                    .WithEnvironment("Uploads__Sweeper__ProcessingTimeout", SweeperTimeout.ToString("c"));
            }

            if (ExplicitStart.Contains(project.Name))
            {
                resource.WithExplicitStart();
            }
        }

        ConfigureMore(builder);
    }

    protected virtual void ConfigureMore(IDistributedApplicationTestingBuilder builder)
    {
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Faults as an operator or a crash would cause them, and waiting for the system to heal.</summary>
public static class Faults
{
    /// <summary>
    /// Restarts a resource and waits until a new process is Running and Healthy. Under load a
    /// clean RabbitMQ or MariaDB shutdown can outlast Aspire's 20 s command timeout: the command
    /// then reports failure although the stop goes on, so this waits for it and starts the resource.
    /// </summary>
    public static async Task RestartAsync(DistributedApplication app, string resource)
    {
        var before = TryFindPid(app, resource);
        var result = await ExecuteAsync(app, resource, KnownResourceCommands.RestartCommand);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!timeout.IsCancellationRequested)
        {
            if (IsRunningAndHealthy(app, resource) && TryFindPid(app, resource) is { } pid && pid != before)
            {
                return;
            }

            if (!result.Success && app.ResourceNotifications.TryGetCurrentState(resource, out var current)
                && KnownResourceStates.TerminalStates.Contains(current.Snapshot.State?.Text))
            {
                result = await ExecuteAsync(app, resource, KnownResourceCommands.StartCommand);
            }

            await Task.Delay(250, CancellationToken.None);
        }

        throw new TimeoutException($"{resource} was not restarted (the command said: {result.Message}).");
    }

    /// <summary>Stops a resource and waits until it has (the stop may outlast the command's own timeout).</summary>
    public static async Task StopAsync(DistributedApplication app, string resource)
    {
        var result = await ExecuteAsync(app, resource, KnownResourceCommands.StopCommand);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!(app.ResourceNotifications.TryGetCurrentState(resource, out var current)
                 && KnownResourceStates.TerminalStates.Contains(current.Snapshot.State?.Text)))
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{resource} did not stop (the command said: {result.Message}).");
            }

            await Task.Delay(250, CancellationToken.None);
        }
    }

    /// <summary>Starts a resource and waits until it is Running and Healthy, starting it again if a start gave up.</summary>
    public static async Task StartAsync(DistributedApplication app, string resource)
    {
        var result = await ExecuteAsync(app, resource, KnownResourceCommands.StartCommand);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!IsRunningAndHealthy(app, resource))
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{resource} did not start (the command said: {result.Message}).");
            }

            if (!result.Success && app.ResourceNotifications.TryGetCurrentState(resource, out var current)
                && KnownResourceStates.TerminalStates.Contains(current.Snapshot.State?.Text))
            {
                result = await ExecuteAsync(app, resource, KnownResourceCommands.StartCommand);
            }

            await Task.Delay(250, CancellationToken.None);
        }
    }

    /// <summary>SIGKILL of the service's own process (not the <c>dotnet run</c> above it); returns its pid.</summary>
    public static int Kill(DistributedApplication app, string resource) => ServiceProcess.KillHard(app, resource);

    /// <summary>
    /// SIGKILL of a backing server's own process (<c>mariadbd</c>, <c>beam.smp</c>, <c>redis-server</c>),
    /// wherever it sits below the resource's start script: a crash or the OOM killer hits that one.
    /// </summary>
    public static int KillServer(DistributedApplication app, string resource, string processName)
    {
        var root = ServiceProcess.Find(app, resource);
        var pid = Descendants(root).Prepend(root).FirstOrDefault(p => Command(p) == processName);
        if (pid == 0)
        {
            throw new InvalidOperationException($"No {processName} under {resource} (pid {root}).");
        }

        System.Diagnostics.Process.GetProcessById(pid).Kill();
        return pid;
    }

    private static string? Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<int> Descendants(int pid)
    {
        IEnumerable<int> children;
        try
        {
            children = Directory.EnumerateDirectories($"/proc/{pid}/task")
                .SelectMany(task => File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(int.Parse)
                .ToList();
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var child in children)
        {
            yield return child;
            foreach (var grandchild in Descendants(child))
            {
                yield return grandchild;
            }
        }
    }

    public static bool IsRunningAndHealthy(DistributedApplication app, string resource) =>
        app.ResourceNotifications.TryGetCurrentState(resource, out var current)
        && current.Snapshot.State?.Text == KnownResourceStates.Running
        && current.Snapshot.HealthStatus == HealthStatus.Healthy
        && (current.Resource is not (ProjectResource or ExecutableResource) || TryFindPid(app, resource) is { } pid && Directory.Exists($"/proc/{pid}"));

    public static int? TryFindPid(DistributedApplication app, string resource)
    {
        try
        {
            return ServiceProcess.Find(app, resource);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or FormatException or UnauthorizedAccessException)
        {
            return null; // between two lives: no pid, or dotnet run has not started the service yet
        }
    }

    /// <summary>
    /// Polls rather than waiting on notifications: right after a kill the last notification
    /// still says Running and Healthy, so only a live process (checked in /proc) counts.
    /// </summary>
    public static async Task WaitUntilRunningAndHealthyAsync(DistributedApplication app, IEnumerable<string> resources, TimeSpan timeout)
    {
        var waiting = resources.ToList();
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            waiting = waiting.Where(r => !IsRunningAndHealthy(app, r)).ToList();
            if (waiting.Count == 0)
            {
                return;
            }

            try
            {
                await Task.Delay(250, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Not Running and Healthy after {timeout}: {string.Join(", ", waiting)}");
            }
        }
    }

    /// <summary>Sends one command to the storefront's Redis with <c>redis-cli</c> (installed with redis-server); its answer.</summary>
    public static async Task<string> RedisCommandAsync(DistributedApplication app, params string[] command)
    {
        // The connection string reads "127.0.0.1:PORT,password=...".
        var parts = (await app.GetConnectionStringAsync("cache"))!.Split(',');
        var port = parts[0].Split(':')[1];
        var password = parts.Single(p => p.StartsWith("password=", StringComparison.Ordinal))["password=".Length..];
        var start = new System.Diagnostics.ProcessStartInfo("redis-cli", ["-h", "127.0.0.1", "-p", port, "--no-auth-warning", "-a", password, .. command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var cli = System.Diagnostics.Process.Start(start)!;
        var answer = await cli.StandardOutput.ReadToEndAsync();
        await cli.WaitForExitAsync();
        if (cli.ExitCode != 0 || answer.StartsWith("ERR", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', command)}: {answer} {await cli.StandardError.ReadToEndAsync()}");
        }

        return answer;
    }

    /// <summary>Peak resident memory of a process (VmHWM), in bytes.</summary>
    public static long PeakResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kilobytes = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return kilobytes * 1024;
    }

    private static async Task<ExecuteCommandResult> ExecuteAsync(DistributedApplication app, string name, string command)
    {
        var resource = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await app.Services.GetRequiredService<ResourceCommandService>().ExecuteCommandAsync(resource, command, timeout.Token);
    }
}
