using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>
/// One storefront with <c>Storage:Kind=S3</c> for all of <see cref="ObjectStorageTests"/>: the AppHost starts its own S3
/// server (s3rver, the <c>storage</c> resource) and every service keeps images there.
/// </summary>
public sealed class ObjectStorageStorefront : IAsyncLifetime
{
    public const string AdminKey = "s3-e2e-admin-key-0123456789abcdef0123";

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("reference-s3-e2e-").FullName;

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>Our long-running resources (services, backing servers and <c>storage</c>).</summary>
    public IReadOnlyList<string> Resources { get; private set; } = [];

    public StorefrontClient CreateClient() => new(App.CreateHttpClient("gateway", "http"), AdminKey);

    public async Task InitializeAsync()
    {
        Prerequisite.Require(File.Exists("/usr/bin/node") && File.Exists("/usr/bin/npm"), "node and npm are not installed (Debian packages nodejs npm), so s3rver cannot run.");
        App = await StorefrontHost.StartAsync(DataDirectory, AdminKey, settings: ["--Storage:Kind=S3"]);
        Resources = App.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Where(r => r is ProjectResource or IResourceWithConnectionString || r.Name == "storage")
            .Where(r => !r.Name.EndsWith("-rebuilder", StringComparison.Ordinal) && !StorefrontHost.IsOneShot(r.Name))
            .Select(r => r.Name)
            .ToList();
        Assert.Contains("storage", Resources);
        await StorefrontHost.WaitUntilHealthyAsync(App, Resources, TimeSpan.FromMinutes(4));
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
