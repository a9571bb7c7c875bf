using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests.Support;

/// <summary>
/// The storefront the outage and hostile-input tests share. Its workers are not started with the
/// rest: while the broker has never seen a worker, some uploads are accepted (the fresh-broker
/// case), then the workers start. One product is the poison product: a worker that gets a job for
/// it dies, through the worker's off-by-default fault injection.
/// </summary>
public sealed class OutageStorefront : ReliabilityStorefront
{
    public const int EarlyUploadCount = 10;

    public Guid PoisonProductId { get; private set; }

    /// <summary>Uploads accepted before any worker had ever started.</summary>
    public IReadOnlyList<Guid> EarlyUploads { get; private set; } = [];

    protected override IEnumerable<string> ExplicitStart => ["imageworker-1", "imageworker-2"];

    protected override void ConfigureMore(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var worker in builder.Resources.OfType<ProjectResource>().Where(p => p.Name.StartsWith("imageworker-", StringComparison.Ordinal)))
        {
            // Read at each start: the product exists only once the inventory runs.
            builder.CreateResourceBuilder(worker).WithEnvironment(context =>
            {
                if (PoisonProductId != Guid.Empty)
                {
                    context.EnvironmentVariables["ImageWorker__FaultInjection__CrashOnProductId"] = PoisonProductId.ToString();
                }
            });
        }
    }

    protected override async Task AfterStartAsync()
    {
        var client = CreateClient();
        PoisonProductId = (await client.CreateProductAsync(category: "Poison")).Id;

        var photos = Corpus.AllImages();
        var early = new List<Guid>();
        for (var i = 0; i < EarlyUploadCount; i++)
        {
            early.Add((await client.UploadAcceptedAsync(photos[i % photos.Count])).Id);
        }

        EarlyUploads = early;
        foreach (var worker in ExplicitStart)
        {
            await Faults.StartAsync(App, worker);
        }

        await Faults.WaitUntilRunningAndHealthyAsync(App, ExplicitStart, TimeSpan.FromMinutes(2));
    }
}

[CollectionDefinition(Name)]
public sealed class OutageCollection : ICollectionFixture<OutageStorefront>
{
    public const string Name = "outages";
}
