using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
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

    /// <summary>
    /// While set, UploadApi replicas started from then on sweep every second and allowed the old code a
    /// budget of seconds (3 publishes, 2 s apart) before failing an upload no worker finished.
    /// </summary>
    public bool ShortSweeperBudget { get; set; }

    public const int ShortMaxAttempts = 3;

    public static readonly TimeSpan ShortPendingTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Uploads accepted before any worker had ever started.</summary>
    public IReadOnlyList<Guid> EarlyUploads { get; private set; } = [];

    protected override IEnumerable<string> ExplicitStart => ["imageworker-1", "imageworker-2"];

    protected override void ConfigureMore(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var api in builder.Resources.OfType<ProjectResource>().Where(p => p.Name.StartsWith("uploadapi-", StringComparison.Ordinal)))
        {
            // Read at each start, after (so over) the fixture's own sweeper settings.
            builder.CreateResourceBuilder(api).WithEnvironment(context =>
            {
                if (ShortSweeperBudget)
                {
                    context.EnvironmentVariables["Uploads__Sweeper__Interval"] = "00:00:01";
                    context.EnvironmentVariables["Uploads__Sweeper__PendingTimeout"] = ShortPendingTimeout.ToString("c");
                    context.EnvironmentVariables["Uploads__Sweeper__ProcessingTimeout"] = "00:00:10";
                    context.EnvironmentVariables["Uploads__Sweeper__MaxAttempts"] = ShortMaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
            });
        }

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
