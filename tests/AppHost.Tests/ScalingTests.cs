using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Reference.AppHost.Scaling;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using Xunit.Abstractions;
using Reference.Scaling;

namespace Reference.AppHost.Tests;

/// <summary>The elastic worker pool of the F5 run and the API scaler (ScalingTests.Apis.cs): the AppHost's scalers with short timeouts, on one storefront of their own.</summary>
public sealed partial class ScalingTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Cap = 2;
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(8);
    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("reference-scaling-").FullName;
    private DistributedApplication _app = null!;

    private WorkerScaler Scaler => _app.Services.GetRequiredService<WorkerScaler>();

    [Fact]
    public async Task Workers_start_on_demand_grow_to_the_cap_survive_a_kill_hold_without_rabbitmq_and_stop_when_idle_and_the_inventory_api_scales_by_latency()
    {
        var client = new StorefrontClient(_app.CreateHttpClient("gateway", "http"), StorefrontFixture.AdminKey);

        // Idle: nothing runs.
        var first = await NextDecisionAsync();
        Assert.Equal(0, first.To);
        Assert.Empty(RunningWorkers());

        // One upload into the empty pool starts a worker and becomes Ready.
        var clock = Stopwatch.StartNew();
        var one = await client.UploadAcceptedAsync(Corpus.Path("leaf-2560x1600.jpg"));
        Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(one.Id)).Status);
        output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} cold upload → Ready in {clock.Elapsed.TotalSeconds:0.0} s");
        var worker = Assert.Single(RunningWorkers());
        var pid = ServiceProcess.Find(_app, worker);

        // A restarted scaler adopts the running worker: it counts it and neither starts nor stops one.
        await Scaler.StopAsync(CancellationToken.None);
        var restartedAt = DateTimeOffset.UtcNow;
        await Scaler.StartAsync(CancellationToken.None);
        var adopted = await NextDecisionAsync(after: restartedAt);
        Assert.Equal((1, 1), (adopted.From, adopted.To));

        // RabbitMQ unreachable: the pool holds, past the idle timeout, and nothing is stopped.
        var commands = _app.Services.GetRequiredService<ResourceCommandService>();
        Assert.True((await commands.ExecuteCommandAsync("messaging", KnownResourceCommands.StopCommand)).Success);
        var outageStarted = DateTimeOffset.UtcNow;
        await Task.Delay(IdleTimeout + TimeSpan.FromSeconds(2));
        var held = await NextDecisionAsync(after: outageStarted.AddSeconds(2));
        Assert.Contains("unreadable", held.Reason);
        Assert.Equal([worker], RunningWorkers());
        Assert.Equal(pid, ServiceProcess.Find(_app, worker));
        Assert.True((await commands.ExecuteCommandAsync("messaging", KnownResourceCommands.StartCommand)).Success);
        using (var back = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync("messaging", back.Token);
        }

        // A burst raises the pool to the cap and not beyond; a worker SIGKILLed meanwhile loses no upload.
        var most = 0;
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                most = Math.Max(most, RunningWorkers().Count);
                await Task.Delay(100);
            }
        });
        clock.Restart();
        var burstAt = DateTimeOffset.UtcNow;
        var burst = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => client.UploadAcceptedAsync(Corpus.Path("leaf-2560x1600.jpg"))));
        Assert.True(await Poll.UntilAsync(() => RunningWorkers().Count == Cap, TimeSpan.FromSeconds(30)), "the pool never reached its cap");
        output.WriteLine($"pool at its cap {clock.Elapsed.TotalSeconds:0.0} s after the burst began");
        var killed = RunningWorkers().Last();
        using (var up = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(killed, up.Token); // its process exists
        }

        ServiceProcess.KillHard(_app, killed);
        var outcomes = new ConcurrentBag<string>();
        await Task.WhenAll(burst.Select(async upload => outcomes.Add((await client.WaitUntilFinishedAsync(upload.Id, TimeSpan.FromMinutes(2))).Status)));
        await watching.CancelAsync();
        await watcher;
        output.WriteLine($"burst of {burst.Length} done in {clock.Elapsed.TotalSeconds:0.0} s; most workers at once {most}; killed {killed}");
        Assert.All(outcomes, status => Assert.Equal("Ready", status));
        Assert.Equal(Cap, most);

        // The console shows the scaler: its current round with the cap, and the burst's step up with its reason.
        using (var anonymous = await client.Http.GetAsync("/api/ops/scaler"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode); // the admin key, as every /api/ops endpoint
        }

        var scaler = await ReadScalerAsync(client);
        Assert.Equal(Cap, scaler.GetProperty("current").GetProperty("maxWorkers").GetInt32());
        var stepsUp = scaler.GetProperty("changes").EnumerateArray()
            .Where(d => d.GetProperty("to").GetInt32() > d.GetProperty("from").GetInt32() && d.GetProperty("at").GetDateTimeOffset() >= burstAt
                        && d.GetProperty("pool").ValueKind == JsonValueKind.Null) // the workers' steps, not an API's
            .ToList();
        Assert.NotEmpty(stepsUp);
        Assert.All(stepsUp, d => Assert.Matches(@"^\d+ waiting, \d+ held", d.GetProperty("reason").GetString()));
        output.WriteLine($"scaler's steps up in the burst: {string.Join(" | ", stepsUp.Select(d => $"{d.GetProperty("from")} → {d.GetProperty("to")}: {d.GetProperty("reason")}"))}");
        var drained = RunningWorkers();

        // Idle again: back to zero within the idle timeout and a few rounds.
        clock.Restart();
        Assert.True(await Poll.UntilAsync(() => RunningWorkers().Count == 0, IdleTimeout + TimeSpan.FromSeconds(30)),
            $"the pool did not go back to zero; last decision {Scaler.LastDecision}");
        output.WriteLine($"back to zero {clock.Elapsed.TotalSeconds:0.0} s after the burst; last decision {Scaler.LastDecision}");

        // Each was drained, not killed: its last heartbeat (kept after it stopped) says Drained, and the scaler's step down is listed.
        var heartbeats = await ReadAsync(client, "/api/ops/workers");
        foreach (var name in drained)
        {
            var last = heartbeats.EnumerateArray().Select(w => w.GetProperty("heartbeat"))
                .Where(h => h.GetProperty("name").GetString() == name).MaxBy(h => h.GetProperty("startedAt").GetDateTimeOffset());
            Assert.Equal("Drained", last.GetProperty("state").GetString());
        }

        Assert.Contains((await ReadScalerAsync(client)).GetProperty("changes").EnumerateArray(),
            d => d.GetProperty("to").GetInt32() == 0 && d.GetProperty("reason").GetString()!.Contains("idle for", StringComparison.Ordinal));

        await InventoryApiScalesUpUnderLoadAndDownWithoutErrorsAsync(client);

        // The console's page shows the scaler too: the pool at zero under its cap, and the steps up and down with their reasons.
        await using var browser = await Browser.LaunchAsync();
        var page = await browser.NewPageAsync(1400, 1000);
        await page.GotoAsync(new Uri(client.Http.BaseAddress!, "/admin/jobs.html").ToString());
        await page.GetByTestId("admin-key-input").FillAsync(StorefrontFixture.AdminKey);
        await page.GetByTestId("admin-key-save").ClickAsync();
        var summary = page.Locator("[data-testid=scaler-summary][data-state=running]");
        await Assertions.Expect(summary).ToHaveAttributeAsync("data-cap", Cap.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Assertions.Expect(summary).ToHaveAttributeAsync("data-workers", "0");
        await Assertions.Expect(page.Locator("[data-testid=scaler-decision][data-pool=imageworker][data-direction=up]").First).ToContainTextAsync("waiting");
        await Assertions.Expect(page.Locator("[data-testid=scaler-decision][data-pool=imageworker][data-direction=down]").First).ToContainTextAsync("idle for");
        await Assertions.Expect(page.Locator("[data-testid=scaler-decision][data-pool=inventoryapi][data-direction=down]").First).ToContainTextAsync("inventoryapi 2 → 1");
        await Browser.ScreenshotAsync(page, "jobs-console-scaler");
    }

    private static Task<JsonElement> ReadScalerAsync(StorefrontClient client) => ReadAsync(client, "/api/ops/scaler");

    private static async Task<JsonElement> ReadAsync(StorefrontClient client, string path)
    {
        using var response = await client.GetAsAdminAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Workers whose process exists or is on its way (a drained worker is still up until the scaler stops it).</summary>
    private List<string> RunningWorkers() =>
        Enumerable.Range(1, Cap).Select(i => $"imageworker-{i}")
            .Where(name => _app.ResourceNotifications.TryGetCurrentState(name, out var e)
                           && e.Snapshot.State?.Text is { } s && !Down.Contains(s))
            .ToList();

    private static readonly string[] Down = [KnownResourceStates.NotStarted, KnownResourceStates.Exited, KnownResourceStates.Finished, KnownResourceStates.FailedToStart];

    private async Task<ScalingDecision> NextDecisionAsync(DateTimeOffset? after = null)
    {
        var since = after ?? DateTimeOffset.MinValue;
        return (await Poll.UntilAsync(() => Task.FromResult(Scaler.LastDecision),
            d => d is not null && d.Inputs.Now > since, TimeSpan.FromSeconds(20)))!;
    }

    public async Task InitializeAsync()
    {
        _app = await StorefrontHost.StartAsync(_dataDirectory, StorefrontFixture.AdminKey, builder =>
        {
            // The scaler's decisions, with their reasons, in the test's log.
            builder.Services.AddLogging(logging => logging
                .AddSimpleConsole(console => console.TimestampFormat = "HH:mm:ss.fff ")
                .AddFilter("Reference.AppHost.Scaling", LogLevel.Debug)
                .AddFilter("Reference.AppHost.Resources.imageworker-1", LogLevel.Information)
                .AddFilter("Reference.AppHost.Resources.imageworker-2", LogLevel.Information)
                .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
            var gateway = builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(p => p.Name == "gateway"));
            gateway.WithEnvironment("Gateway__UploadRateLimit__PermitLimit", "1000000")
                .WithEnvironment("Gateway__AdminUploadRateLimit__PermitLimit", "1000000")
                .WithEnvironment("Gateway__AdminApiRateLimit__PermitLimit", "1000000")
                .WithEnvironment("Gateway__ApiRateLimit__PermitLimit", "1000000");
        },
        [
            "--Scaling:Enabled=true",
            "--Scaling:MinWorkers=0",
            $"--Scaling:MaxWorkers={Cap}",
            $"--Scaling:IdleTimeout={IdleTimeout:c}",
            "--Scaling:StableWindow=00:00:02",
            "--Scaling:Interval=00:00:01",
            "--Scaling:JobsPerWorkerTarget=2",
            .. ApiScalingSettings,
        ]);
        var services = _app.Services.GetRequiredService<DistributedApplicationModel>().Resources
            .Where(r => (r is ProjectResource && !r.Name.StartsWith("imageworker-", StringComparison.Ordinal) && !r.HasAnnotationOfType<ExplicitStartupAnnotation>())
                        || r is IResourceWithConnectionString)
            .Select(r => r.Name)
            .Where(name => !StorefrontHost.IsOneShot(name));
        await StorefrontHost.WaitUntilHealthyAsync(_app, services, TimeSpan.FromMinutes(4));
        await StorefrontHost.WaitUntilGatewayRoutesAsync(_app, StorefrontFixture.AdminKey);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
