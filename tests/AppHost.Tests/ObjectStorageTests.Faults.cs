using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using SixLabors.ImageSharp;

namespace Reference.AppHost.Tests;

/// <summary>
/// The promise with <c>Storage:Kind=S3</c>: an upload that got its 202 is never lost while a worker is killed mid-job and
/// the S3 server restarts mid-burst, and the gateway never serves part of an object. A bounded burst on this class's
/// storefront; the 200-upload fault run over the folder is <c>Reliability.Tests/FaultRunTests</c>
/// (<c>REFERENCE_S3_FAULT_UPLOADS</c> makes this one longer).
/// </summary>
public sealed partial class ObjectStorageTests
{
    [Fact]
    public async Task Every_accepted_upload_ends_ready_while_a_worker_is_killed_and_the_s3_server_restarts_mid_burst()
    {
        var uploads = int.Parse(Environment.GetEnvironmentVariable("REFERENCE_S3_FAULT_UPLOADS") ?? "48", CultureInfo.InvariantCulture);
        using var wholeRun = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var client = storefront.CreateClient();
        var product = await client.CreateProductAsync(category: "S3 faults");
        var photos = Corpus.AllImages().Select(path => (Name: Path.GetFileName(path), Bytes: File.ReadAllBytes(path))).ToList();

        // A Ready variant read over and over through the gateway while the bucket goes away: each answer is the whole
        // object or an error status, never a 200 cut short.
        var probe = await client.WaitUntilFinishedAsync((await client.UploadAcceptedAsync(Corpus.Path("kite-2560x1600.jpg"))).Id);
        Assert.Equal("Ready", probe.Status);
        var probeVariant = probe.Variants!.MaxBy(v => v.Bytes)!;
        using var probing = CancellationTokenSource.CreateLinkedTokenSource(wholeRun.Token);
        var probeAnswers = ProbeAsync(client.Http, probeVariant, probing.Token);

        var clock = Stopwatch.StartNew();
        var accepted = new ConcurrentBag<Guid>();
        var refused = new ConcurrentBag<string>();
        var retries = 0;
        // Paced, so the faults below land while uploads are still arriving and jobs are in the workers' hands.
        var sending = Parallel.ForEachAsync(Enumerable.Range(0, uploads),
            new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = wholeRun.Token },
            async (i, ct) =>
            {
                var photo = photos[i % photos.Count];
                var (id, tries, last) = await UploadWithRetriesAsync(client, photo.Bytes, photo.Name, i % 2 == 0 ? product.Id : null, ct);
                Interlocked.Add(ref retries, tries);
                if (id is { } accept)
                {
                    accepted.Add(accept);
                }
                else
                {
                    refused.Add(last);
                }

                await Task.Delay(300, ct);
            });

        var workers = storefront.ResourceNames.Where(r => r.StartsWith("imageworker-", StringComparison.Ordinal)).ToList();
        var unfinishedAtFaults = new List<int>();
        foreach (var (at, fault) in new[] { (2, "worker"), (5, "storage"), (9, "worker"), (13, "storage") })
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(at))
            {
                await Task.Delay(100, wholeRun.Token);
            }

            var unfinished = await CountUnfinishedAsync(client, accepted.ToList());
            unfinishedAtFaults.Add(unfinished);
            var what = fault == "worker"
                ? await KillABusyWorkerAsync(workers, wholeRun.Token)
                : await RestartStorageAsync(wholeRun.Token);
            output.WriteLine($"[s3-faults] {clock.Elapsed:mm\\:ss} {what}; {accepted.Count} accepted, {unfinished} of them not finished");
        }

        await sending;
        var ids = accepted.ToList();
        var finished = await WaitUntilAllFinishedAsync(client, ids, TimeSpan.FromMinutes(4));
        await probing.CancelAsync();
        var (whole, errors, cut) = await probeAnswers;

        // Every variant of every Ready upload is served whole and decodes to the size it is listed with.
        var badVariants = new List<string>();
        foreach (var variant in finished.Where(u => u.Status == "Ready").SelectMany(u => u.Variants!))
        {
            var bytes = await client.Http.GetByteArrayAsync(variant.Url);
            var info = Image.Identify(bytes);
            if (bytes.Length != variant.Bytes || (info.Width, info.Height) != (variant.Width, variant.Height))
            {
                badVariants.Add($"{variant.Url}: {bytes.Length} bytes, {info.Width}x{info.Height}");
            }
        }

        output.WriteLine($"s3-fault-run: accepted {ids.Count} of {uploads}, ready {finished.Count(u => u.Status == "Ready")}, " +
            $"failed {finished.Count(u => u.Status == "Failed")}, client retries {retries}, refused {refused.Count}, " +
            $"unfinished at the faults {string.Join("/", unfinishedAtFaults)}, probe whole {whole} errors {errors} cut {cut}, " +
            $"{clock.Elapsed.TotalSeconds:0} s");
        Assert.Empty(refused);
        Assert.Equal(uploads, ids.Count);
        // Every corpus photo is good, so none may fail: the bucket's absence is a transient fault, retried.
        Assert.All(finished, u => Assert.True(u.Status == "Ready", $"{u.Id}: {u.Status} {u.Reason}"));
        Assert.Empty(badVariants);
        // The faults hit work in progress, or this proved nothing.
        Assert.All(unfinishedAtFaults, n => Assert.True(n > 0, "a fault came after all uploads had finished"));
        Assert.Equal(0, cut);
        Assert.True(whole > 0);
    }

    /// <summary>SIGKILL of a worker process (the AppHost starts it again); a running one, not one coming back from a kill.</summary>
    private async Task<string> KillABusyWorkerAsync(IReadOnlyList<string> workers, CancellationToken cancellationToken)
    {
        while (true)
        {
            foreach (var worker in workers.Where(IsRunningAndHealthy))
            {
                try
                {
                    return $"killed {worker}, pid {ServiceProcess.KillHard(storefront.App, worker)}";
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException)
                {
                    // Between a kill and its restart the process is gone or not yet there: try another.
                }
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    /// <summary>The dashboard's Restart of the S3 server, then waiting until a new process is Running and Healthy.</summary>
    private async Task<string> RestartStorageAsync(CancellationToken cancellationToken)
    {
        var app = storefront.App;
        var before = ServiceProcess.Find(app, "storage");
        var resource = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == "storage");
        var restart = Stopwatch.StartNew();
        var result = await app.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(resource, KnownResourceCommands.RestartCommand, cancellationToken);
        Assert.True(result.Success, result.Message);
        // The last reading names the state, the health and the pid, so a restart that never comes back says where it stuck.
        await Poll.UntilAsync(() => Task.FromResult(StorageState(before)), state => state.EndsWith("(new)", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
        return $"restarted storage (pid {before}) in {restart.Elapsed.TotalSeconds:0.0} s";
    }

    private string StorageState(int before)
    {
        if (!storefront.App.ResourceNotifications.TryGetCurrentState("storage", out var current))
        {
            return "no state";
        }

        var pid = current.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value?.ToString();
        var state = $"{current.Snapshot.State?.Text} {current.Snapshot.HealthStatus} pid {pid} (was {before})";
        return IsRunningAndHealthy("storage") && pid != before.ToString(CultureInfo.InvariantCulture) ? state + " (new)" : state;
    }

    private bool IsRunningAndHealthy(string resource) =>
        storefront.App.ResourceNotifications.TryGetCurrentState(resource, out var current)
        && current.Snapshot.State?.Text == KnownResourceStates.Running
        && current.Snapshot.HealthStatus == HealthStatus.Healthy;
}
