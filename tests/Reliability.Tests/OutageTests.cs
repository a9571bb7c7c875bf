using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>One outage at a time, each healed before the next test (they share one storefront).</summary>
[Collection(OutageCollection.Name)]
public sealed partial class OutageTests(OutageStorefront storefront, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Settle = TimeSpan.FromMinutes(2);

    public Task InitializeAsync() => Faults.WaitUntilRunningAndHealthyAsync(storefront.App, storefront.Resources, Settle);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Uploads_accepted_before_any_worker_ever_started_are_all_processed_once_workers_start()
    {
        var client = storefront.CreateClient();

        var finished = await Task.WhenAll(storefront.EarlyUploads.Select(id => client.WaitUntilFinishedAsync(id, Settle)));

        Assert.Equal(OutageStorefront.EarlyUploadCount, finished.Length);
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        Log($"fresh-broker: {finished.Length} uploads accepted before any worker started, {finished.Count(u => u.Status == "Ready")} ready, " +
            $"publishes {finished.Sum(u => u.Attempts)}");
    }

    [Fact]
    public async Task With_the_broker_down_uploads_still_get_202_and_none_is_lost_once_it_is_back()
    {
        var client = storefront.CreateClient();
        var photos = Corpus.AllImages();
        await Faults.StopAsync(storefront.App, "messaging");
        try
        {
            var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
            {
                using var response = await client.UploadAsync(await File.ReadAllBytesAsync(photos[i % photos.Count]), Path.GetFileName(photos[i % photos.Count]));
                return (response.StatusCode, Body: await response.Content.ReadFromJsonAsync<AcceptedUpload>(StorefrontClient.Json));
            }));

            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            var ids = responses.Select(r => r.Body!.Id).ToList();
            foreach (var id in ids)
            {
                Assert.Equal("Pending", (await client.GetUploadAsync(id)).Status);
            }

            await Faults.StartAsync(storefront.App, "messaging");
            var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
            Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
            Log($"broker-down: {ids.Count} uploads answered 202 with the broker stopped, {finished.Count(u => u.Status == "Ready")} ready after it came back");
        }
        finally
        {
            if (!Faults.IsRunningAndHealthy(storefront.App, "messaging"))
            {
                await Faults.StartAsync(storefront.App, "messaging");
            }
        }
    }

    [Fact]
    public async Task A_broker_killed_with_sigkill_comes_back_by_itself_and_the_uploads_sent_meanwhile_are_ready()
    {
        var client = storefront.CreateClient();
        var photos = Corpus.AllImages();
        var script = Faults.TryFindPid(storefront.App, "messaging");
        var beam = Faults.KillServer(storefront.App, "messaging", "beam.smp");
        var clock = Stopwatch.StartNew();

        var ids = new List<Guid>();
        for (var i = 0; i < 6; i++)
        {
            ids.Add((await client.UploadAcceptedAsync(photos[i % photos.Count])).Id);
        }

        // Nobody starts it: only the AppHost's supervision can bring it back.
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            while (!(Faults.IsRunningAndHealthy(storefront.App, "messaging") && Faults.TryFindPid(storefront.App, "messaging") != script))
            {
                await Task.Delay(250, wait.Token);
            }
        }

        var back = clock.Elapsed;
        var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        Log($"broker-killed: beam.smp (pid {beam}) SIGKILLed, broker back by itself in {back.TotalSeconds:0} s, " +
            $"{ids.Count} uploads sent meanwhile, {finished.Count(u => u.Status == "Ready")} ready");
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
    }

    private static object NewProduct() => new
    {
        sku = "OUT-" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant(),
        name = "Outage product",
        description = "Made during an outage test.",
        category = "Outage",
        price = 3.5m,
        currency = "EUR",
        stock = 1,
    };

    private void Log(string line)
    {
        output.WriteLine(line);
        Console.WriteLine(line);
    }
}
