using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Reference.Tests.Support;

namespace Reference.Tests.Storefront;

/// <summary>
/// The whole storefront, started once per test collection by the real AppHost in local mode,
/// with its data in a temporary folder. Starting it costs about a minute, so every end-to-end
/// test shares one. A fixture for another configuration passes its settings (e.g. <c>--Storage:Kind=S3</c>).
/// </summary>
public class StorefrontFixture : IAsyncLifetime
{
    public const string AdminKey = "e2e-admin-key-0123456789abcdef0123";

    private readonly string[] _settings;

    public StorefrontFixture()
        : this([])
    {
    }

    protected StorefrontFixture(params string[] settings) => _settings = settings;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("reference-e2e-").FullName;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Our long-running resources: services, backing servers and any local server such as <c>storage</c>.</summary>
    public IReadOnlyList<string> ResourceNames { get; private set; } = [];

    public string ImageStorage => Path.Combine(DataDirectory, "images");

    public HttpClient CreateGatewayClient() => App.CreateHttpClient("gateway", "http");

    public StorefrontClient CreateClient() => new(CreateGatewayClient(), AdminKey);

    public virtual async Task InitializeAsync()
    {
        App = await StorefrontHost.StartAsync(DataDirectory, AdminKey, settings: _settings);
        ResourceNames = StorefrontHost.LongRunningResources(App);
        await StorefrontHost.WaitUntilHealthyAsync(App, ResourceNames, TimeSpan.FromMinutes(4));
        await StorefrontHost.WaitUntilGatewayRoutesAsync(App, AdminKey);
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

/// <summary>Starting the AppHost for tests, as the README's run command does but on free ports.</summary>
public static class StorefrontHost
{
    public static async Task<DistributedApplication> StartAsync(
        string dataDirectory, string adminKey, Action<IDistributedApplicationTestingBuilder>? configure = null,
        IEnumerable<string>? settings = null)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Reference_AppHost>(
        [
            // The fixed pool of two workers these tests were written for; ScalingTests turn the scaler on.
            "--Scaling:Enabled=false",
            // Two replicas of each API, as these tests were written for (balancing, a replica killed); the AppHost's
            // default follows the core count (one each on 2 cores).
            "--Replicas:InventoryApi=2",
            "--Replicas:UploadApi=2",
            "--Backing:Mode=local",
            $"--Backing:DataDirectory={dataDirectory}",
            $"--Gateway:Port={Loopback.FreePort()}",
            $"--Parameters:admin-key={adminKey}",
            // Fixed so a second start over the same data folder opens the same databases.
            "--Parameters:mysql-password=e2e-mysql-password",
            "--Parameters:cache-password=e2e-cache-password",
            "--Parameters:messaging-password=e2e-messaging-password",
            .. settings ?? [],
        ]);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        // The tests rely on the demo catalogue even in a shop made without it (dotnet new --sample-catalog false);
        // inventorydb's one-shot set-up seeds it.
        foreach (var inventory in builder.Resources.OfType<ProjectResource>().Where(p => p.Name == "inventorydb-setup"))
        {
            builder.CreateResourceBuilder(inventory).WithEnvironment("Inventory__SeedDemoCatalog", "true");
        }

        // No dashboard runs under test, yet Aspire still points every service at its OTLP port: each exporter then
        // retries for its 10 s timeout at every flush, and a service's stop outlasts DCP's wait for it.
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT"));
        }

        configure?.Invoke(builder);
        var app = await builder.BuildAsync();
        // Bounded: a server that never comes up fails the fixture instead of hanging the run.
        await app.StartAsync().WaitAsync(TimeSpan.FromMinutes(5));
        return app;
    }

    /// <summary>
    /// The resources a started storefront keeps running: projects, servers with a connection string and other local
    /// executables (the S3 server); not Aspire's hidden "-rebuilder" helpers nor the one-shot set-ups.
    /// </summary>
    public static IReadOnlyList<string> LongRunningResources(DistributedApplication app) =>
        app.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Where(r => r is ProjectResource or IResourceWithConnectionString or ExecutableResource)
            .Where(r => !r.Name.EndsWith("-rebuilder", StringComparison.Ordinal) && !IsOneShot(r.Name))
            .Select(r => r.Name)
            .ToList();

    /// <summary>
    /// Aspire's health checks and the gateway's own (every 5 s) are separate: an API Aspire calls healthy may still be out of
    /// the gateway's rotation for a few seconds after the start, and a request then gets 503. Waits until the gateway has a
    /// healthy replica of each API.
    /// </summary>
    public static async Task WaitUntilGatewayRoutesAsync(DistributedApplication app, string adminKey)
    {
        using var http = app.CreateHttpClient("gateway", "http");
        var client = new StorefrontClient(http, adminKey);
        Assert.True(await Poll.UntilAsync(async () =>
        {
            using var response = await client.GetAsAdminAsync("/api/gateway/load");
            return response.IsSuccessStatusCode
                   && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clusters").EnumerateObject()
                       .All(c => c.Value.GetProperty("destinations").EnumerateArray().Any(d => d.GetProperty("activeHealth").GetString() == "Healthy"));
        }, seen => seen, TimeSpan.FromSeconds(30)), "the gateway never saw a healthy replica of each API");
    }

    /// <summary>A resource that runs once and finishes (a database's set-up), never healthy.</summary>
    public static bool IsOneShot(string resource) => resource.EndsWith("-setup", StringComparison.Ordinal);

    public static async Task WaitUntilHealthyAsync(DistributedApplication app, IEnumerable<string> resources, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await Task.WhenAll(resources.Select(name => app.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token)));
    }

}
