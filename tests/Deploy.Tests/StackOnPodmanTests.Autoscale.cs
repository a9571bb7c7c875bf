using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Reference.Contracts;
using Reference.Deploy.Tests.Support;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests;

/// <summary>
/// The workers on demand (issue 15) on the running compose stack: its image workers switched to
/// deploy/compose.autoscale.yaml (one container, a supervisor of 0..N worker processes), no image
/// rebuilt and no second stack. Idle it runs none; an upload starts one; a burst raises them to the
/// cap the container's limits give, and not beyond; idle again, they stop.
/// </summary>
public sealed partial class StackOnPodmanTests
{
    private const string AutoscaleFile = "compose.autoscale.yaml";

    /// <summary>The override's idle timeout in the test (the shipped default is 5 minutes).</summary>
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(20);

    private const int BurstUploads = 30;

    /// <summary>Each worker process's command line names the service's assembly; the supervisor's too.</summary>
    private const string CountWorkerProcesses = "grep -l 'ImageWorker[.]dll' /proc/[0-9]*/cmdline 2>/dev/null | wc -l";

    /// <summary>Resident memory of every process in the container, in KiB, one per line.</summary>
    private const string ResidentKilobytes = "cat /proc/[0-9]*/status 2>/dev/null | grep '^VmRSS:' | tr -s ' ' | cut -d' ' -f2";

    private static async Task AssertWorkersOnDemandAsync(
        ITestOutputHelper output, Phases phases, ComposeStack stack, HttpClient http, string productId, CancellationToken ct)
    {
        var fixedPool = await stack.ServiceContainersAsync("imageworker", ct);
        long fixedBytes = 0;
        foreach (var container in fixedPool)
        {
            fixedBytes += await ResidentBytesAsync(stack, container, ct);
        }

        output.WriteLine($"fixed pool: {fixedPool.Count} idle worker containers, {fixedBytes >> 20} MiB resident together");

        var supervisor = await phases.RunAsync("autoscale: switch the workers to compose.autoscale.yaml", async () =>
        {
            await stack.UpServiceAsync("imageworker", AutoscaleFile, ct);
            var containers = await Poll.UntilAsync(() => stack.ServiceContainersAsync("imageworker", ct), c => c.Count == 1, TimeSpan.FromSeconds(60));
            await Poll.UntilAsync(() => stack.ContainersAsync(ct),
                all => all.Where(c => c.Name.Contains("imageworker", StringComparison.Ordinal)).All(c => c.Health == "healthy"),
                TimeSpan.FromSeconds(90));
            return containers[0];
        });
        await phases.RunAsync("autoscale: the gateway finds every API replica healthy again after the switch", async () =>
        {
            // Recreating containers makes podman's CNI name server (the dnsname plugin's dnsmasq) restart. Seen in CI:
            // for 10-20 s afterwards new connections between the other containers waited on lookups, the gateway's probes
            // timed out and it took every API replica out of rotation (a console read got 504, an upload 503). The stack
            // comes back by itself; the phases below start once the gateway has seen every replica healthy for two
            // probe intervals running.
            var clock = Stopwatch.StartNew();
            var healthySince = (TimeSpan?)null;
            var stalled = false;
            while (healthySince is null || clock.Elapsed - healthySince < TimeSpan.FromSeconds(11))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), "The gateway did not find every API replica healthy within 2 minutes of the switch.");
                var healthy = await EveryReplicaHealthyAsync(http, ct);
                stalled |= !healthy;
                healthySince = healthy ? healthySince ?? clock.Elapsed : null;
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }

            output.WriteLine(stalled
                ? $"after the switch some API replica was out of the gateway's rotation; all back and steady {clock.Elapsed.TotalSeconds:0} s after it"
                : "after the switch every API replica stayed in the gateway's rotation");
        });
        var host = (await stack.ExecInAsync(supervisor, "cat /etc/hostname", ct)).Trim();
        var started = await Poll.UntilAsync(() => stack.LogsAsync(supervisor, ct), log => SupervisingPattern().IsMatch(log), TimeSpan.FromSeconds(30));
        var cap = int.Parse(SupervisingPattern().Match(started).Groups["max"].Value);
        output.WriteLine($"supervisor {host}: cap {cap} worker processes (from the container's limits), idle timeout {IdleTimeout.TotalSeconds:0} s");
        Assert.True(cap >= 2, $"A burst cannot show scaling with a cap of {cap}: the override's mem_limit or the CPUs give too little.");

        async Task BackToZeroAsync(string after) => await phases.RunAsync($"autoscale: idle after {after}, back to 0 worker processes", async () =>
        {
            var clock = Stopwatch.StartNew();
            await Poll.UntilAsync(() => WorkerProcessesAsync(stack, supervisor, ct), n => n == 0, IdleTimeout + TimeSpan.FromSeconds(60));
            output.WriteLine($"back to 0 worker processes {clock.Elapsed.TotalSeconds:0.0} s after {after} (idle timeout {IdleTimeout.TotalSeconds:0} s); " +
                $"{(await ResidentBytesAsync(stack, supervisor, ct)) >> 20} MiB resident");
            // Stopped workers say so or fall silent: none stays listed as running.
            await Poll.UntilAsync(() => LiveWorkersOnAsync(http, host, ct), w => w.Count == 0, WorkerControl.LostAfter + TimeSpan.FromSeconds(15));
        });

        await phases.RunAsync("autoscale: an empty queue runs no worker process", async () =>
        {
            // Several scaler rounds (every 2 s) with nothing queued, and still none.
            await Task.Delay(TimeSpan.FromSeconds(6), ct);
            Assert.Equal(0, await WorkerProcessesAsync(stack, supervisor, ct));
            var idleBytes = await ResidentBytesAsync(stack, supervisor, ct);
            output.WriteLine($"idle supervisor container: 0 worker processes, {idleBytes >> 20} MiB resident " +
                $"(the fixed pool: {fixedBytes >> 20} MiB in {fixedPool.Count} containers)");
            Assert.Empty(await LiveWorkersOnAsync(http, host, ct));
        });

        await phases.RunAsync("autoscale: one upload starts a worker and becomes Ready", async () =>
        {
            var photo = await File.ReadAllBytesAsync(Corpus.Path(Photo), ct);
            var clock = Stopwatch.StartNew();
            var uploadId = await PostUploadAsync(http, productId, photo, ct);
            var accepted = clock.Elapsed;
            TimeSpan? processStarted = null;
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                deadline.CancelAfter(TimeSpan.FromMinutes(1));
                while (true)
                {
                    processStarted ??= await WorkerProcessesAsync(stack, supervisor, deadline.Token) > 0 ? clock.Elapsed : null;
                    var upload = await GetJsonAsync(http, $"/api/uploads/{uploadId}", deadline.Token);
                    Assert.True((string?)upload["status"] != "Failed", "The upload failed: " + upload["reason"]);
                    if ((string?)upload["status"] == "Ready")
                    {
                        break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
                }
            }

            output.WriteLine($"cold upload→Ready: {clock.Elapsed.TotalSeconds:0.0} s (202 after {accepted.TotalSeconds:0.0} s, " +
                $"a worker process seen after {processStarted?.TotalSeconds.ToString("0.0") ?? "-"} s; polled every ~0.5 s)");
            // The supervisor sees the job by the AMQP passive declare, probed every 0.2 s while no worker runs
            // (Scaling/ScalingRounds.cs); by the management API's 5 s statistics alone this took 7.4–11.7 s.
            Assert.True(processStarted - accepted < TimeSpan.FromSeconds(4),
                $"A worker process was seen {(processStarted - accepted)?.TotalSeconds:0.0} s after the 202: the supervisor did not see the job by AMQP.");
            Assert.InRange(await WorkerProcessesAsync(stack, supervisor, ct), 1, cap);
            var startedBy = (await GetJsonAsync(http, $"/api/ops/uploads/{uploadId}", ct))["history"]!.AsArray()
                .Where(e => (string?)e!["event"] == "started").Select(e => (string)e!["source"]!).ToList();
            Assert.NotEmpty(startedBy);
            Assert.All(startedBy, worker => Assert.Contains($".{host}.", worker));
            // The worker process is listed by the console like any worker, by its heartbeat.
            var live = await Poll.UntilAsync(() => LiveWorkersOnAsync(http, host, ct), w => w.Count >= 1, TimeSpan.FromSeconds(15));
            output.WriteLine($"console: {string.Join(", ", live)} running in {host}; the upload started by {string.Join(", ", startedBy)}");
        });

        await BackToZeroAsync("the first upload");

        // From an idle pool: one worker keeps up with uploads as fast as one client sends them here, so a burst into
        // a running worker leaves no backlog to scale on; into an empty pool it waits until the supervisor looks.
        await phases.RunAsync($"autoscale: a burst of {BurstUploads} uploads into the idle pool raises the workers to the cap, not beyond", async () =>
        {
            var clock = Stopwatch.StartNew();
            var photo = await File.ReadAllBytesAsync(Corpus.Path(Photo), ct);
            var ids = await Task.WhenAll(Enumerable.Range(0, BurstUploads).Select(_ => PostUploadAsync(http, productId, photo, ct)));
            var most = 0;
            TimeSpan? atCap = null;
            var pending = ids.ToHashSet();
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromMinutes(3));
            while (pending.Count > 0)
            {
                var running = await WorkerProcessesAsync(stack, supervisor, deadline.Token);
                most = Math.Max(most, running);
                atCap ??= running == cap ? clock.Elapsed : null;
                Assert.True(running <= cap, $"{running} worker processes run; the cap is {cap}.");
                foreach (var id in pending.ToList())
                {
                    var upload = await GetJsonAsync(http, $"/api/uploads/{id}", deadline.Token);
                    Assert.True((string?)upload["status"] != "Failed", $"Upload {id} failed: {upload["reason"]}");
                    if ((string?)upload["status"] == "Ready")
                    {
                        pending.Remove(id);
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(500), deadline.Token);
            }

            output.WriteLine($"burst: {BurstUploads} uploads Ready in {clock.Elapsed.TotalSeconds:0.0} s " +
                $"({BurstUploads / clock.Elapsed.TotalSeconds:0.00} jobs/s), at most {most} worker processes (cap {cap}), " +
                $"at the cap after {atCap?.TotalSeconds.ToString("0.0") ?? "never"} s");
            Assert.Equal(cap, most);
        });

        await BackToZeroAsync("the burst");

        foreach (var decision in (await stack.LogsAsync(supervisor, ct)).Split('\n').Where(l => l.Contains("Image workers", StringComparison.Ordinal)))
        {
            output.WriteLine("supervisor: " + decision.Trim());
        }

        await phases.RunAsync("autoscale: the decisions are where the console reads the scaler's (Redis)", async () =>
        {
            // Written as the imageworker's Redis user (ACL ~ops:*); read here as the administrator, inside the cache container.
            var cache = (await stack.ServiceContainersAsync("cache", ct)).Single();
            var listed = await stack.ExecInAsync(cache,
                "REDISCLI_AUTH=\"$(cat /run/secrets/cache-password)\" redis-cli --raw LRANGE ops:scaler:decisions 0 -1", ct);
            var changes = listed.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonNode.Parse(line)!).ToList();
            Assert.True(changes.Count >= 3, "ops:scaler:decisions: " + listed);
            Assert.Equal(0, (int)changes[0]["to"]!);
            Assert.Contains(changes, c => (int)c["from"]! == 0 && (int)c["to"]! >= 1);
            Assert.Contains(changes, c => (int)c["to"]! == cap && (int)c["maxWorkers"]! == cap);
            output.WriteLine($"ops:scaler:decisions: {changes.Count} changes, newest: {changes[0].ToJsonString()}");
        });
    }

    private static async Task<string> PostUploadAsync(HttpClient http, string productId, byte[] photo, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(photo);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", Photo);
        form.Add(new StringContent(productId), "productId");
        using var response = await http.PostAsync("/api/uploads", form, ct);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!;
    }

    /// <summary>Every destination of every cluster Healthy by the gateway's active check (its admin load view); false when it does not answer.</summary>
    private static async Task<bool> EveryReplicaHealthyAsync(HttpClient http, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync("/api/gateway/load", ct);
            var clusters = response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["clusters"]!.AsObject() : null;
            return clusters is not null && clusters.All(c => c.Value!["destinations"]!.AsArray().All(d => (string?)d!["activeHealth"] == "Healthy"));
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Worker processes in the supervisor's container: every ImageWorker process but the supervisor itself.</summary>
    private static async Task<int> WorkerProcessesAsync(ComposeStack stack, string container, CancellationToken ct) =>
        int.Parse((await stack.ExecInAsync(container, CountWorkerProcesses, ct)).Trim()) - 1;

    private static async Task<long> ResidentBytesAsync(ComposeStack stack, string container, CancellationToken ct) =>
        (await stack.ExecInAsync(container, ResidentKilobytes, ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(long.Parse) * 1024;

    /// <summary>The console's running, not lost, workers on one host (container).</summary>
    private static async Task<IReadOnlyList<string>> LiveWorkersOnAsync(HttpClient http, string host, CancellationToken ct) =>
        (await GetArrayAsync(http, "/api/ops/workers", ct))
            .Where(w => (string?)w!["heartbeat"]!["host"] == host && State(w) == "Running" && !(bool)w!["lost"]!)
            .Select(w => (string)w!["heartbeat"]!["workerId"]!).ToList();

    [GeneratedRegex(@"Supervising 0\.\.(?<max>\d+) image workers")]
    private static partial Regex SupervisingPattern();
}
