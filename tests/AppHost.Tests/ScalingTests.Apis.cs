using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Reference.AppHost.Scaling;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>
/// InventoryApi scaled by the gateway's latency, in the same run as the worker pool (one storefront start for both):
/// two replicas, the second started stopped, short windows.
/// </summary>
public sealed partial class ScalingTests
{
    private const int ApiInFlightTarget = 4;

    private static readonly string[] ApiScalingSettings =
    [
        "--Replicas:InventoryApi=2",
        "--Replicas:UploadApi=1",
        "--Scaling:Apis:Enabled=true",
        "--Scaling:Apis:LatencyTarget=00:00:01",
        $"--Scaling:Apis:InFlightPerReplicaTarget={ApiInFlightTarget}",
        "--Scaling:Apis:StableWindow=00:00:03",
    ];

    private ApiScaler ApiScaler => _app.Services.GetRequiredService<ApiScaler>();

    private async Task InventoryApiScalesUpUnderLoadAndDownWithoutErrorsAsync(StorefrontClient client)
    {
        Assert.Equal(["inventoryapi-1"], RunningReplicas());

        // Heavy: 16 clients reading the catalogue, 4 per replica wanted, so the cap of 2 at once.
        var clock = Stopwatch.StartNew();
        using var heavy = new CancellationTokenSource();
        var heavyLoad = Enumerable.Range(0, 16).Select(_ => Task.Run(() => UseCatalogueAsync(client, TimeSpan.Zero, writes: false, heavy.Token))).ToList();
        Assert.True(await Poll.UntilAsync(() => RunningReplicas().Count == 2, TimeSpan.FromSeconds(30)),
            $"inventoryapi did not scale up; last decision {ApiScaler.LastDecisions.GetValueOrDefault("inventoryapi")}");
        var upAfter = clock.Elapsed;
        // In rotation: the gateway's active check has found it healthy (it then takes its share of the requests).
        var secondAddress = new Uri(_app.GetEndpoint("inventoryapi-2", "http").ToString());
        Assert.True(await Poll.UntilAsync(async () => await SecondIsInRotationAsync(client, secondAddress), in_ => in_, TimeSpan.FromSeconds(40)),
            "the gateway never took inventoryapi-2 into rotation");
        var inRotationAfter = clock.Elapsed;
        await heavy.CancelAsync();
        var heavyResults = await Task.WhenAll(heavyLoad);

        // Light traffic through the scale-down, reads and writes (a POST is not retried on another replica once sent):
        // every answer must be a success, including those racing the stop.
        using var light = new CancellationTokenSource();
        var lightLoad = Task.Run(() => UseCatalogueAsync(client, TimeSpan.FromMilliseconds(20), writes: true, light.Token));
        clock.Restart();
        Assert.True(await Poll.UntilAsync(() => RunningReplicas().Count == 1, TimeSpan.FromSeconds(45)),
            $"inventoryapi did not scale down; last decision {ApiScaler.LastDecisions.GetValueOrDefault("inventoryapi")}");
        var downAfter = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(1)); // the light client goes on a little on the one replica left
        await light.CancelAsync();
        var (served, failures) = await lightLoad;

        output.WriteLine($"inventoryapi 1 → 2 {upAfter.TotalSeconds:0.0} s after 16 clients began, in the gateway's rotation after "
                         + $"{inRotationAfter.TotalSeconds:0.0} s; heavy phase {heavyResults.Sum(r => r.Served)} requests, {heavyResults.Sum(r => r.Failures.Count)} failed");
        output.WriteLine($"inventoryapi 2 → 1 {downAfter.TotalSeconds:0.0} s after the load fell to one light client; it served {served} requests, {failures.Count} failed");
        Assert.Equal(["inventoryapi-1"], RunningReplicas());
        Assert.Empty(failures);
        // Stopped after the gateway took it out of rotation (and kept it out while its last requests finished), not found dead by the health check.
        Assert.True((await DestinationAsync(client, secondAddress)).GetProperty("takenOut").GetBoolean());
        Assert.True(served > 20, $"the light client made only {served} requests");

        // Each step in the console's list, with the API's name and the reason in numbers.
        var changes = (await ReadScalerAsync(client)).GetProperty("changes").EnumerateArray()
            .Where(d => d.GetProperty("pool").ValueKind == JsonValueKind.String && d.GetProperty("pool").GetString() == "inventoryapi")
            .Select(d => (From: d.GetProperty("from").GetInt32(), To: d.GetProperty("to").GetInt32(), Reason: d.GetProperty("reason").GetString()!))
            .ToList();
        output.WriteLine(string.Join(Environment.NewLine, changes.Select(c => $"inventoryapi {c.From} → {c.To}: {c.Reason}")));
        Assert.Contains(changes, c => (c.From, c.To) == (1, 2) && c.Reason.Contains("in flight", StringComparison.Ordinal));
        Assert.Contains(changes, c => (c.From, c.To) == (2, 1) && c.Reason.Contains("one fewer", StringComparison.Ordinal));
    }

    private static async Task<bool> SecondIsInRotationAsync(StorefrontClient client, Uri address) =>
        (await DestinationAsync(client, address)).GetProperty("activeHealth").GetString() == "Healthy";

    private static async Task<JsonElement> DestinationAsync(StorefrontClient client, Uri address)
    {
        using var response = await client.GetAsAdminAsync("/api/gateway/load");
        var load = await response.Content.ReadFromJsonAsync<JsonElement>();
        return load.GetProperty("clusters").GetProperty("inventoryapi").GetProperty("destinations").EnumerateArray()
            .Single(d => new Uri(d.GetProperty("address").GetString()!) == address);
    }

    /// <summary>Reads the catalogue (and with <paramref name="writes"/> adds a product every fourth time) until stopped; any non-success is a failure.</summary>
    private static async Task<(int Served, List<string> Failures)> UseCatalogueAsync(StorefrontClient client, TimeSpan pause, bool writes, CancellationToken stop)
    {
        var (served, failures) = (0, new List<string>());
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (writes && served % 4 == 3)
                {
                    await client.CreateProductAsync("API-SCALING"); // asserts 201
                    served++;
                    continue;
                }

                using var response = await client.Http.GetAsync("/api/inventory/products?pageSize=24", CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    served++;
                }
                else
                {
                    failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} GET {(int)response.StatusCode}");
                }
            }
            catch (Exception e) when (e is HttpRequestException or Xunit.Sdk.XunitException)
            {
                failures.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {e.Message}");
            }

            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, CancellationToken.None);
            }
        }

        return (served, failures);
    }

    private List<string> RunningReplicas() =>
        new[] { "inventoryapi-1", "inventoryapi-2" }
            .Where(name => _app.ResourceNotifications.TryGetCurrentState(name, out var e) && e.Snapshot.State?.Text is { } s && !Down.Contains(s))
            .ToList();
}
