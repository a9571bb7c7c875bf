using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Reference.Gateway.Tests.Support;
using Yarp.ReverseProxy;

namespace Reference.Gateway.Tests;

public sealed class ResilienceTests
{
    [Fact]
    public async Task A_request_whose_connection_is_refused_is_sent_to_the_other_replica_even_a_post_with_its_body()
    {
        var dead = new FakeBackend("inventory-dead"); // never started: connections are refused
        await using var live = new FakeBackend("inventory-live");
        await live.StartAsync();
        await using var uploads = new FakeBackend("uploads");
        await uploads.StartAsync();
        using var gateway = new GatewayHost([dead, live], [uploads], StrictRoundRobin);
        using var client = gateway.CreateRealClient();

        var gets = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync($"/api/inventory/products?i={i}");
            gets.Add(response.StatusCode);
        }

        var posts = new List<EchoResponse>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsync("/api/inventory/products", new StringContent(new string('x', 5000 + i)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            posts.Add((await response.Content.ReadFromJsonAsync<EchoResponse>())!);
        }

        Assert.All(gets, s => Assert.Equal(HttpStatusCode.OK, s));
        // Nothing reached the dead replica, so every POST arrived whole, once, at the live one.
        Assert.Equal([5000, 5001, 5002, 5003], posts.Select(p => p.BodyBytes));
        Assert.All(posts, p => Assert.Equal("inventory-live", p.Backend));
        Assert.Equal(6 + 4, live.ApiHits);
    }

    [Fact]
    public async Task A_post_cut_off_after_it_was_sent_is_not_sent_again_but_a_get_is()
    {
        await using var first = new FakeBackend("inventory-a");
        await using var second = new FakeBackend("inventory-b");
        await first.StartAsync();
        await second.StartAsync();
        await using var uploads = new FakeBackend("uploads");
        await uploads.StartAsync();
        using var gateway = new GatewayHost([first, second], [uploads], StrictRoundRobin);
        using var client = gateway.CreateRealClient();
        int CutOffHits() => first.Hits.GetValueOrDefault("/api/inventory/cut-off") + second.Hits.GetValueOrDefault("/api/inventory/cut-off");

        using var post = await client.PostAsync("/api/inventory/cut-off", new StringContent("{}"));
        var postHits = CutOffHits();
        using var get = await client.GetAsync("/api/inventory/cut-off");

        // The POST may have been applied before the connection dropped: a second copy could apply it twice.
        Assert.Equal(HttpStatusCode.BadGateway, post.StatusCode);
        Assert.Equal(1, postHits);
        Assert.Equal(HttpStatusCode.BadGateway, get.StatusCode);
        Assert.Equal(1 + 2, CutOffHits());
    }

    // Alternate strictly and never learn from failures, so requests keep meeting the bad replica.
    private static readonly Dictionary<string, string?> StrictRoundRobin = new()
    {
        ["ReverseProxy:Clusters:inventoryapi:LoadBalancingPolicy"] = "RoundRobin",
        ["ReverseProxy:Clusters:inventoryapi:HealthCheck:Active:Enabled"] = "false",
        ["ReverseProxy:Clusters:inventoryapi:HealthCheck:Passive:Enabled"] = "false",
    };

    [Fact]
    public async Task A_killed_replica_leaves_the_rotation_within_the_health_check_window_and_comes_back_when_healthy()
    {
        await using var replicaA = new FakeBackend("inventory-a");
        await using var replicaB = new FakeBackend("inventory-b");
        await replicaA.StartAsync();
        await replicaB.StartAsync();
        await using var uploads = new FakeBackend("uploads");
        await uploads.StartAsync();
        using var gateway = new GatewayHost([replicaA, replicaB], [uploads], new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:inventoryapi:HealthCheck:Passive:ReactivationPeriod"] = "00:00:02",
            ["Gateway:TransportFailureRate:DetectionWindowSize"] = "00:00:02",
            ["Gateway:ApiRateLimit:PermitLimit"] = "100000", // the test is a busy client on purpose
        });
        using var client = gateway.CreateRealClient();
        var lookup = gateway.Services.GetRequiredService<IProxyStateLookup>();
        bool IsAvailable(FakeBackend replica) =>
            lookup.TryGetCluster("inventoryapi", out var cluster)
            && cluster.DestinationsState.AvailableDestinations.Any(d => new Uri(d.Model.Config.Address).Port == replica.Port);

        // Clients keep reading while the replica dies; retries must hide it from them.
        using var stopReading = new CancellationTokenSource();
        var readerStatuses = new List<HttpStatusCode>();
        var reader = Task.Run(async () =>
        {
            while (!stopReading.IsCancellationRequested)
            {
                using var response = await client.GetAsync("/api/inventory/products");
                lock (readerStatuses)
                {
                    readerStatuses.Add(response.StatusCode);
                }

                await Task.Delay(20);
            }
        });

        // The reader is under way, on both replicas, before one dies.
        await WaitUntil(() => { lock (readerStatuses) { return readerStatuses.Count >= 10; } }, TimeSpan.FromSeconds(30));
        await replicaB.StopAsync();
        // Expected within threshold (2) x (interval 0.5 s + probe timeout 0.5 s); the bound is generous
        // so that a busy machine slows the test rather than failing it.
        var droppedOut = await WaitUntil(() => !IsAvailable(replicaB), TimeSpan.FromSeconds(30));

        var statusesAfter = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            // Not retried once sent: a POST that met the dead replica mid-way would fail.
            using var response = await client.PostAsync("/api/inventory/products", new StringContent("{}"));
            statusesAfter.Add(response.StatusCode);
        }

        await using var replicaBAgain = new FakeBackend("inventory-b-again", replicaB.Port);
        await replicaBAgain.StartAsync();
        var cameBack = await WaitUntil(() => IsAvailable(replicaB), TimeSpan.FromSeconds(10));
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("/api/inventory/products");
            statusesAfter.Add(response.StatusCode);
        }

        await stopReading.CancelAsync();
        await reader;

        Assert.True(droppedOut, "the stopped replica was still in rotation after the health-check window: " + HealthOf(lookup));
        Assert.All(statusesAfter, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(readerStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(cameBack, "the restarted replica did not return to rotation: " + HealthOf(lookup));
        Assert.True(replicaBAgain.ApiHits > 0, "the restarted replica received no traffic");
    }

    private static string HealthOf(IProxyStateLookup lookup) =>
        lookup.TryGetCluster("inventoryapi", out var cluster)
            ? string.Join("; ", cluster.Destinations.Values.Select(d => $"{d.Model.Config.Address} active={d.Health.Active} passive={d.Health.Passive}"))
            : "no cluster";

    private static async Task<bool> WaitUntil(Func<bool> condition, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return condition();
    }
}
