using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
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
        Resources = StorefrontHost.LongRunningResources(App);
        await Faults.WaitUntilRunningAndHealthyAsync(App, Resources.Except(ExplicitStart), TimeSpan.FromMinutes(4));
        await StorefrontHost.WaitUntilGatewayRoutesAsync(App, AdminKey);
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
