using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Reference.Contracts;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests;

/// <summary>
/// The operations console (issue 14) on the compose stack, through the gateway with the admin key: the worker
/// containers' heartbeats (Redis, as uploadapi's own user), the queues (RabbitMQ's management API, as the
/// monitoring user), the upload rows, and a drain that reaches one worker container through Redis alone.
/// </summary>
public sealed partial class StackOnPodmanTests
{
    /// <summary>Every worker container's process with a fresh heartbeat, every pipeline queue consumed, the upload Ready; the worker ids.</summary>
    private static async Task<IReadOnlyList<string>> AssertConsoleSeesTheStackAsync(
        ITestOutputHelper output, HttpClient http, string uploadId, int workerCount, CancellationToken ct)
    {
        var workers = await Poll.UntilAsync(() => GetArrayAsync(http, "/api/ops/workers", ct),
            listed => listed.Count == workerCount && listed.All(w => State(w) == "Running" && !(bool)w!["lost"]!), TimeSpan.FromSeconds(30));
        foreach (var worker in workers)
        {
            var heartbeat = worker!["heartbeat"]!;
            var age = (double)worker["silentForSeconds"]!;
            output.WriteLine($"worker {heartbeat["workerId"]}: {heartbeat["state"]}, heartbeat {age:0.0} s old, " +
                $"{heartbeat["done"]} done, {(long)heartbeat["residentBytes"]! >> 20} MiB resident");
            // A heartbeat every 3 s: a fresh one is at most two intervals old.
            Assert.True(age <= 2 * WorkerControl.HeartbeatInterval.TotalSeconds, $"Worker {heartbeat["workerId"]}'s heartbeat is {age} s old.");
        }

        // One process per container: the host name is the container's.
        Assert.Equal(workerCount, workers.Select(w => (string?)w!["heartbeat"]!["host"]).Distinct().Count());

        // The management API's consumer counts lag the consumers by a statistics interval (5 s), every queue's.
        var queues = await Poll.UntilAsync(() => GetArrayAsync(http, "/api/ops/queues", ct),
            listed => Consumers(listed, MessageEndpoints.ImageUploadedQueue) == workerCount
                      && listed.All(q => ((string)q!["name"]!).EndsWith("_error", StringComparison.Ordinal)
                                         || ((string)q["name"]!).EndsWith("_skipped", StringComparison.Ordinal) || (int)q["consumers"]! > 0),
            TimeSpan.FromSeconds(30));
        foreach (var queue in queues)
        {
            output.WriteLine($"queue {queue!["name"]}: {queue["ready"]} ready, {queue["unacknowledged"]} unacked, {queue["consumers"]} consumers");
        }

        var pipeline = queues.Where(q => !((string)q!["name"]!).EndsWith("_error", StringComparison.Ordinal)
            && !((string)q["name"]!).EndsWith("_skipped", StringComparison.Ordinal)).ToList();
        Assert.Contains(pipeline, q => ((string)q!["name"]!).StartsWith("upload-api-", StringComparison.Ordinal));
        Assert.Contains(pipeline, q => ((string)q!["name"]!).StartsWith("inventory-", StringComparison.Ordinal));
        Assert.All(pipeline, q => Assert.True((int)q!["consumers"]! > 0, $"Queue {q["name"]} has no consumer."));

        // The error-queue actions log in as the operator broker user (secrets/messaging-operator): an unknown error queue is a
        // 404 only once that login worked (without the secret it is a 503, with a wrong password a 500).
        using (var purge = await http.PostAsync("/api/ops/error-queues/nothing-here_error/purge", null, ct))
        {
            var problem = await purge.Content.ReadAsStringAsync(ct);
            Assert.True(purge.StatusCode == HttpStatusCode.NotFound, $"{purge.StatusCode}: {problem}");
            Assert.Contains("no error queue", problem);
        }

        var page = await GetJsonAsync(http, "/api/ops/uploads?state=Ready", ct);
        var upload = page["uploads"]!.AsArray().SingleOrDefault(u => (string?)u!["id"] == uploadId);
        Assert.True(upload is not null, $"Upload {uploadId} is not among the console's Ready uploads: {page.ToJsonString()}");
        Assert.True((int)page["counts"]!["Ready"]! >= 1, page["counts"]!.ToJsonString());
        output.WriteLine($"upload {uploadId}: {upload["status"]}, queued {upload["queuedSeconds"]} s, " +
            $"processing {upload["processingSeconds"]} s, total {upload["totalSeconds"]} s");
        return workers.Select(w => (string)w!["heartbeat"]!["workerId"]!).ToList();
    }

    /// <summary>
    /// The console drains the first worker: it reports Drained, the broker sends it nothing more, and an upload sent
    /// afterwards is processed by another worker (the stack runs two; with one it would stay Pending until a resume).
    /// </summary>
    private static async Task AssertDrainedWorkerTakesNothingAsync(
        ITestOutputHelper output, HttpClient http, string productId, IReadOnlyList<string> workers, CancellationToken ct)
    {
        Assert.True(workers.Count >= 2, "The drain check needs a second worker to take the next upload.");
        var drained = workers[0];
        var clock = Stopwatch.StartNew();
        using (var response = await http.PostAsync($"/api/ops/workers/{Uri.EscapeDataString(drained)}/drain", null, ct))
        {
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }

        // Its jobs done as the Drained heartbeat counts them: an earlier heartbeat may not count the last one yet.
        var doneBefore = (long)(await Poll.UntilAsync(() => WorkerAsync(http, drained, ct), w => State(w) == "Drained", TimeSpan.FromSeconds(30)))["heartbeat"]!["done"]!;
        output.WriteLine($"worker {drained}: drain to Drained in {clock.Elapsed.TotalSeconds:0.0} s (heartbeat every {WorkerControl.HeartbeatInterval.TotalSeconds:0} s)");
        await Poll.UntilAsync(() => GetArrayAsync(http, "/api/ops/queues", ct),
            listed => Consumers(listed, MessageEndpoints.ImageUploadedQueue) == workers.Count - 1, TimeSpan.FromSeconds(30));
        output.WriteLine($"queue {MessageEndpoints.ImageUploadedQueue}: {workers.Count - 1} consumers {clock.Elapsed.TotalSeconds:0.0} s after the drain");

        var next = await UploadUntilReadyAsync(http, productId, ct);
        var history = (await GetJsonAsync(http, $"/api/ops/uploads/{next}", ct))["history"]!.AsArray();
        var startedBy = history.Where(e => (string?)e!["event"] == "started").Select(e => (string)e!["source"]!).ToList();
        Assert.NotEmpty(startedBy);
        Assert.DoesNotContain(drained, startedBy);
        Assert.All(startedBy, worker => Assert.Contains(worker, workers));
        output.WriteLine($"upload {next} after the drain: started by {string.Join(", ", startedBy)}");

        var after = await WorkerAsync(http, drained, ct);
        Assert.Equal("Drained", State(after));
        Assert.Equal(doneBefore, (long)after["heartbeat"]!["done"]!);
    }

    /// <summary>The drained worker resumes: Running again, and the broker counts its consumer again; a running worker cannot resume (409).</summary>
    private static async Task AssertResumedWorkerTakesJobsAsync(ITestOutputHelper output, HttpClient http, IReadOnlyList<string> workers, CancellationToken ct)
    {
        var drained = workers[0];
        using (var refused = await http.PostAsync($"/api/ops/workers/{Uri.EscapeDataString(workers[1])}/resume", null, ct))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        using (var response = await http.PostAsync($"/api/ops/workers/{Uri.EscapeDataString(drained)}/resume", null, ct))
        {
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        }

        await Poll.UntilAsync(() => WorkerAsync(http, drained, ct), w => State(w) == "Running", TimeSpan.FromSeconds(30));
        var runningAfter = clock.Elapsed;
        await Poll.UntilAsync(() => GetArrayAsync(http, "/api/ops/queues", ct),
            listed => Consumers(listed, MessageEndpoints.ImageUploadedQueue) == workers.Count, TimeSpan.FromSeconds(30));
        output.WriteLine($"worker {drained}: resume to Running in {runningAfter.TotalSeconds:0.0} s; " +
            $"{workers.Count} consumers on {MessageEndpoints.ImageUploadedQueue} {clock.Elapsed.TotalSeconds:0.0} s after the resume");
    }

    private static async Task<JsonObject> WorkerAsync(HttpClient http, string workerId, CancellationToken ct) =>
        (await GetArrayAsync(http, "/api/ops/workers", ct)).Single(w => (string?)w!["heartbeat"]!["workerId"] == workerId)!.AsObject();

    private static string? State(JsonNode? worker) => (string?)worker!["heartbeat"]!["state"];

    private static int Consumers(JsonArray queues, string name) =>
        queues.Where(q => (string?)q!["name"] == name).Select(q => (int)q!["consumers"]!).SingleOrDefault(-1);

    private static async Task<JsonArray> GetArrayAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        return (await response.Content.ReadFromJsonAsync<JsonArray>(ct))!;
    }
}
