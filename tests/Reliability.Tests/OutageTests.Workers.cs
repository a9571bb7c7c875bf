using Reference.Reliability.Tests.Support;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests;

public sealed partial class OutageTests
{
    [Fact]
    public async Task Uploads_made_while_no_worker_runs_wait_past_the_old_retry_budget_and_are_ready_once_one_starts()
    {
        var app = storefront.App;
        var client = storefront.CreateClient();
        var uploader = new RetryingUploader(client);
        var workers = storefront.Services("imageworker");
        var uploadApis = storefront.Services("uploadapi");
        var photos = Corpus.AllImages();
        // The old sweeper failed an upload after MaxAttempts publishes, one per pending timeout (+ a sweep).
        var oldBudget = OutageStorefront.ShortMaxAttempts * (OutageStorefront.ShortPendingTimeout + TimeSpan.FromSeconds(1));
        var waited = oldBudget * 3;
        storefront.ShortSweeperBudget = true;
        try
        {
            await RestartByCrashAsync(uploadApis);

            foreach (var worker in workers)
            {
                await Faults.StopAsync(app, worker);
            }

            var ids = new List<Guid>();
            for (var i = 0; i < 8; i++)
            {
                var attempt = await uploader.UploadAsync(await File.ReadAllBytesAsync(photos[i % photos.Count]), Path.GetFileName(photos[i % photos.Count]), null, default);
                ids.Add(attempt.Id ?? throw new InvalidOperationException($"upload {i} refused: {attempt.LastStatus}"));
            }

            await Task.Delay(waited);
            var waiting = await Task.WhenAll(ids.Select(client.GetUploadAsync));
            await Faults.StartAsync(app, workers[0]);
            var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));

            Log($"no-worker: {ids.Count} uploads with every worker stopped for {waited.TotalSeconds:0} s (the old budget: {oldBudget.TotalSeconds:0} s), " +
                $"{waiting.Count(u => u.Status == "Failed")} failed meanwhile, published {waiting.Sum(u => u.Attempts)} times; " +
                $"one worker started: {finished.Count(u => u.Status == "Ready")} ready, {finished.Count(u => u.Status == "Failed")} failed");
            Assert.All(waiting, upload => Assert.Equal("Pending", upload.Status));
            Assert.True(waiting.All(u => u.Attempts > OutageStorefront.ShortMaxAttempts), "the sweeper did not publish past the old cap");
            Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        }
        finally
        {
            storefront.ShortSweeperBudget = false;
            await RestartByCrashAsync(uploadApis);

            foreach (var worker in workers.Where(w => !Faults.IsRunningAndHealthy(app, w)))
            {
                await Faults.StartAsync(app, worker);
            }
        }
    }

    [Fact]
    public async Task An_image_that_kills_every_worker_that_takes_it_ends_failed_and_the_good_uploads_sent_with_it_are_ready()
    {
        var client = storefront.CreateClient();
        var uploader = new RetryingUploader(client);
        var photos = Corpus.AllImages().Select(p => (Name: Path.GetFileName(p), Bytes: File.ReadAllBytes(p))).ToList();
        var workerPids = storefront.Services("imageworker").Select(w => Faults.TryFindPid(storefront.App, w)).ToList();

        var poison = await client.UploadAcceptedAsync(Corpus.Path("kite-2560x1600.jpg"), storefront.PoisonProductId);
        var good = new List<Guid>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 50), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
        {
            var attempt = await uploader.UploadAsync(photos[i % photos.Count].Bytes, photos[i % photos.Count].Name, null, ct);
            lock (good)
            {
                good.Add(attempt.Id ?? throw new InvalidOperationException($"good upload {i} refused: {attempt.LastStatus}"));
            }
        });

        var poisoned = await client.WaitUntilFinishedAsync(poison.Id, Settle);
        var finished = await Task.WhenAll(good.Select(id => client.WaitUntilFinishedAsync(id, Settle)));
        var crashes = storefront.Services("imageworker").Zip(workerPids).Count(w => Faults.TryFindPid(storefront.App, w.First) != w.Second);

        Log($"poison: poison upload {poisoned.Status} after {poisoned.Attempts} publishes ({poisoned.Reason}); " +
            $"{finished.Count(u => u.Status == "Ready")} of {good.Count} good uploads ready; workers restarted: {crashes}");
        Assert.Equal("Failed", poisoned.Status);
        // Images:MaxProcessingAttempts (3) deaths with the job in hand, then one alone: at most 4 starts.
        var starts = System.Text.RegularExpressions.Regex.Match(poisoned.Reason ?? "", "started ([0-9]+) times without finishing");
        Assert.True(starts.Success, poisoned.Reason);
        Assert.InRange(int.Parse(starts.Groups[1].Value), 1, 4);
        Assert.True(crashes > 0, "the poison job never killed a worker: the fault injection is not wired");
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
    }

    [Fact]
    public async Task A_worker_killed_mid_job_leaves_its_jobs_to_the_other_and_every_upload_is_ready()
    {
        var client = storefront.CreateClient();
        var victim = storefront.Services("imageworker")[0];
        var pid = Faults.TryFindPid(storefront.App, victim);
        // The largest corpus photo, a dozen times at once: both workers hold their full prefetch while it runs.
        // (Sent one by one, a fast engine finishes most before the last is accepted.)
        var ids = (await Task.WhenAll(Enumerable.Range(0, 12)
            .Select(_ => client.UploadAcceptedAsync(Corpus.Path("landing-5120x2880.jpg"))))).Select(u => u.Id).ToList();

        using (var wait = new CancellationTokenSource(Settle))
        {
            while (!(await Task.WhenAll(ids.Select(client.GetUploadAsync))).Any(u => u.Status == "Processing"))
            {
                await Task.Delay(20, wait.Token);
            }
        }

        var unfinished = (await Task.WhenAll(ids.Select(client.GetUploadAsync))).Count(u => u.Status is "Pending" or "Processing");
        Faults.Kill(storefront.App, victim);
        var finished = await Task.WhenAll(ids.Select(id => client.WaitUntilFinishedAsync(id, Settle)));

        Log($"worker-killed: {victim} killed with {unfinished} of {ids.Count} uploads unfinished; " +
            $"{finished.Count(u => u.Status == "Ready")} ready, {finished.Count(u => u.Status == "Failed")} failed");
        // More unfinished jobs than the other worker can hold: the victim had its own in hand.
        Assert.True(unfinished > Environment.ProcessorCount, $"only {unfinished} uploads were unfinished at the kill");
        Assert.All(finished, upload => Assert.Equal("Ready", upload.Status));
        await Faults.WaitUntilRunningAndHealthyAsync(storefront.App, [victim], Settle);
        Assert.NotEqual(pid, Faults.TryFindPid(storefront.App, victim));
    }
}
