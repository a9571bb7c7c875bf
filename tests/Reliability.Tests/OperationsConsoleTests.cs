using System.Diagnostics;
using Aspire.Hosting.Testing;
using System.Net;
using Microsoft.Playwright;
using MySqlConnector;
using RabbitMQ.Client;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Reliability.Tests;

/// <summary>
/// The jobs console (<c>/admin/jobs.html</c> and <c>/api/ops</c>) on a whole storefront: what it shows while
/// workers run, die and drain, and what its actions do. The hung job comes last: it kills workers until the poison
/// guard fails it.
/// </summary>
[TestCaseOrderer("Reference.Reliability.Tests.Support.DeclarationOrder", "Reference.Reliability.Tests")]
public sealed class OperationsConsoleTests(OperationsStorefront storefront, ITestOutputHelper output)
    : IClassFixture<OperationsStorefront>, IAsyncLifetime
{
    private Browser _browser = null!;

    public async Task InitializeAsync() => _browser = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _browser.DisposeAsync();

    private Uri Gateway => storefront.App.GetEndpoint("gateway", "http");

    [Fact]
    public async Task Bad_input_is_refused_with_problem_details_and_changes_nothing()
    {
        var client = storefront.CreateClient();
        var ops = storefront.CreateOperationsClient();
        var ready = await UploadAndWaitAsync(client, "kite-2560x1600.jpg");
        var workers = await WaitForLiveWorkersAsync(ops, 2);
        var unknown = Guid.NewGuid();
        const string wrongKey = "not-the-admin-key-0123456789abcdef0123";

        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, $"/api/uploads/{ready.Id}/retry"), HttpStatusCode.Conflict, "Ready");
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, $"/api/uploads/{unknown}/retry"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Get, $"/api/ops/uploads/{unknown}"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/workers/nobody.nowhere.1/drain"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/workers/nobody.nowhere.1/stop"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/workers/nobody.nowhere.1/resume"), HttpStatusCode.NotFound);
        // Only a drained (or draining) worker resumes.
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, $"/api/ops/workers/{workers[0].Heartbeat.WorkerId}/resume"), HttpStatusCode.Conflict, "Running");
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/error-queues/nothing_error/redrive"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/error-queues/nothing_error/purge"), HttpStatusCode.NotFound);
        // The work queue itself is no error queue: it can be neither purged nor re-driven from here.
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Post, "/api/ops/error-queues/image-uploaded/purge"), HttpStatusCode.NotFound);
        await ExpectProblemAsync(ops.SendAsync(HttpMethod.Get, "/api/ops/uploads?state=Bogus"), HttpStatusCode.BadRequest);
        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, "/api/ops/workers"), (HttpMethod.Get, "/api/ops/queues"), (HttpMethod.Get, "/api/ops/stream"),
                     (HttpMethod.Post, $"/api/uploads/{ready.Id}/retry"), (HttpMethod.Post, $"/api/ops/workers/{workers[0].Heartbeat.WorkerId}/drain"),
                     (HttpMethod.Post, $"/api/ops/workers/{workers[0].Heartbeat.WorkerId}/resume"),
                     (HttpMethod.Post, "/api/ops/error-queues/image-uploaded_error/purge"),
                 })
        {
            await ExpectProblemAsync(ops.SendAsync(method, path, key: ""), HttpStatusCode.Unauthorized);
            await ExpectProblemAsync(ops.SendAsync(method, path, key: wrongKey), HttpStatusCode.Forbidden);
        }

        var after = await client.GetUploadAsync(ready.Id);
        Assert.Equal(("Ready", ready.Attempts), (after.Status, after.Attempts));
        await Task.Delay(OperationsHeartbeat);
        var workersAfter = await ops.WorkersAsync();
        Assert.All(workers, w => Assert.Equal("Running", workersAfter.Single(a => a.Heartbeat.WorkerId == w.Heartbeat.WorkerId).Heartbeat.State));
    }

    [Fact]
    public async Task The_page_shows_both_workers_with_their_jobs_during_a_burst_and_the_throughput_after_it()
    {
        var client = storefront.CreateClient();
        await WaitForLiveWorkersAsync(storefront.CreateOperationsClient(), 2);
        var page = await _browser.OpenConsoleAsync(Gateway, OperationsStorefront.AdminKey);
        await Assertions.Expect(page.Locator("[data-testid=worker-row][data-state=Running]")).ToHaveCountAsync(2);

        var clock = Stopwatch.StartNew();
        var burst = StartBurst(client, 16);
        await page.WaitForFunctionAsync(
            "() => [...document.querySelectorAll('[data-testid=worker-row][data-state=Running]')].filter(r => r.querySelector('[data-testid=worker-job]')).length >= 2",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        var bothBusyAfter = clock.Elapsed;
        await Browser.ScreenshotAsync(page, "jobs-console-burst");
        var uploads = await burst;
        foreach (var upload in uploads)
        {
            Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(upload)).Status);
        }

        var burstTook = clock.Elapsed;
        await Assertions.Expect(page.Locator("[data-testid=queue-row][data-queue=image-uploaded]")).ToBeVisibleAsync();
        using (var queues = await storefront.CreateOperationsClient().SendAsync(HttpMethod.Get, "/api/ops/queues"))
        {
            var workQueue = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<List<QueueDto>>(queues.Content, StorefrontClient.Json))!
                .Single(q => q.Name == "image-uploaded");
            Assert.Equal(2, workQueue.Consumers);
        }

        await Assertions.Expect(page.GetByTestId("upload-counts")).ToContainTextAsync("Ready:");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-latency').getAttribute('points').length > 0",
            null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        await Browser.ScreenshotAsync(page, "jobs-console-after-burst");
        output.WriteLine($"[ops] both workers shown holding jobs {bothBusyAfter.TotalSeconds:0.0} s into a burst of 16; the burst was Ready after {burstTook.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task A_failed_upload_retried_from_the_page_becomes_ready_again()
    {
        var client = storefront.CreateClient();
        var upload = await UploadAndWaitAsync(client, "cups-2560x1600-exif.jpg");
        // As a failure leaves it: Failed with a reason, no variants.
        await using (var connection = new MySqlConnection(await storefront.App.GetConnectionStringAsync("uploaddb")))
        {
            await connection.OpenAsync();
            await using var command = new MySqlCommand(
                "UPDATE Uploads SET Status = 'Failed', Reason = 'Made to fail by the test.', Variants = '[]' WHERE Id = @id", connection);
            command.Parameters.AddWithValue("@id", upload.Id);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        var variants = Path.Combine(storefront.ImageStorage, "variants", upload.Id.ToString());
        Directory.Delete(variants, recursive: true);

        var page = await _browser.OpenConsoleAsync(Gateway, OperationsStorefront.AdminKey);
        var row = page.Locator($"[data-testid=upload-row][data-upload-id='{upload.Id}']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-status", "Failed");
        var clock = Stopwatch.StartNew();
        await row.GetByTestId("upload-retry").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-status")).ToHaveAttributeAsync("data-state", "done");
        await Assertions.Expect(page.Locator($"[data-testid=upload-row][data-upload-id='{upload.Id}'][data-status=Ready]"))
            .ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 60_000 });
        var readyAfter = clock.Elapsed;

        var after = await client.GetUploadAsync(upload.Id);
        Assert.Equal("Ready", after.Status);
        Assert.Equal(upload.Attempts + 1, after.Attempts);
        Assert.NotEmpty(Directory.GetFiles(variants));
        var history = await storefront.CreateOperationsClient().UploadAsync(upload.Id);
        Assert.Contains(history.History, h => h.Event == "retried");
        Assert.Contains(history.History.SkipWhile(h => h.Event != "retried"), h => h.Event == "processed");
        output.WriteLine($"[ops] a Failed upload retried from the page was Ready {readyAfter.TotalSeconds:0.0} s after the click");
    }

    [Fact]
    public async Task Messages_of_an_error_queue_are_counted_then_re_driven_to_their_queue_or_purged()
    {
        var ops = storefront.CreateOperationsClient();
        var source = "ops-test-" + Guid.NewGuid().ToString("N")[..8];
        var factory = new ConnectionFactory { Uri = new Uri((await storefront.App.GetConnectionStringAsync("messaging"))!) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync(source, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueDeclareAsync(source + "_error", durable: true, exclusive: false, autoDelete: false);
        for (var i = 0; i < 5; i++)
        {
            await channel.BasicPublishAsync("", source + "_error", System.Text.Encoding.UTF8.GetBytes($"message {i}"));
        }

        var listed = await Until(async () =>
        {
            using var response = await ops.SendAsync(HttpMethod.Get, "/api/ops/queues");
            var queues = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<List<QueueDto>>(response.Content, StorefrontClient.Json);
            return queues!.FirstOrDefault(q => q.Name == source + "_error" && q.Ready == 5);
        }, TimeSpan.FromSeconds(30));
        Assert.True(listed!.IsErrorQueue);

        using (var redriven = await ops.SendAsync(HttpMethod.Post, $"/api/ops/error-queues/{source}_error/redrive"))
        {
            Assert.Equal(HttpStatusCode.OK, redriven.StatusCode);
            Assert.Contains("\"messages\":5", await redriven.Content.ReadAsStringAsync());
        }

        Assert.Equal(5u, await channel.MessageCountAsync(source));
        Assert.Equal(0u, await channel.MessageCountAsync(source + "_error"));

        await channel.BasicPublishAsync("", source + "_error", System.Text.Encoding.UTF8.GetBytes("one more"));
        // A publish without confirms is routed a moment later (seen: not yet counted at once, counted 0.5 s on): the purge waits for it.
        await Poll.UntilAsync(() => channel.MessageCountAsync(source + "_error"), count => count == 1, TimeSpan.FromSeconds(10));
        using (var purged = await ops.SendAsync(HttpMethod.Post, $"/api/ops/error-queues/{source}_error/purge"))
        {
            Assert.Equal(HttpStatusCode.OK, purged.StatusCode);
            Assert.Contains("\"messages\":1", await purged.Content.ReadAsStringAsync());
        }

        Assert.Equal((5u, 0u), (await channel.MessageCountAsync(source), await channel.MessageCountAsync(source + "_error")));
        await channel.QueueDeleteAsync(source);
        await channel.QueueDeleteAsync(source + "_error");
    }

    [Fact]
    public async Task A_drained_worker_finishes_its_jobs_and_takes_no_more_while_the_other_takes_the_rest()
    {
        var client = storefront.CreateClient();
        var ops = storefront.CreateOperationsClient();
        await WaitForLiveWorkersAsync(ops, 2);
        var burst = StartBurst(client, 20);

        // Drain a worker while it holds running jobs.
        var drained = await Until(async () => (await ops.WorkersAsync())
            .FirstOrDefault(w => !w.Lost && w.Heartbeat.Jobs.Any(j => j.Running)), TimeSpan.FromSeconds(60));
        using (var response = await ops.SendAsync(HttpMethod.Post, $"/api/ops/workers/{drained!.Heartbeat.WorkerId}/drain"))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        var draining = await Until(async () => (await ops.WorkersAsync())
            .FirstOrDefault(w => w.Heartbeat.WorkerId == drained.Heartbeat.WorkerId && w.Heartbeat.State != "Running"), TimeSpan.FromSeconds(15));
        var drainingSince = DateTimeOffset.UtcNow;
        var heldAtDrain = draining!.Heartbeat.Jobs.Where(j => j.Running).Select(j => j.UploadId).ToList();
        var drainSeenAfter = clock.Elapsed;

        var uploads = await burst;
        foreach (var upload in uploads)
        {
            Assert.Equal("Ready", (await client.WaitUntilFinishedAsync(upload)).Status);
        }

        var finished = await Until(async () => (await ops.WorkersAsync())
            .FirstOrDefault(w => w.Heartbeat.WorkerId == drained.Heartbeat.WorkerId && w.Heartbeat.State == "Drained"), TimeSpan.FromSeconds(30));
        Assert.Empty(finished!.Heartbeat.Jobs);

        var histories = new List<UploadDetailDto>();
        foreach (var upload in uploads)
        {
            histories.Add(await ops.UploadAsync(upload));
        }

        var startsByDrained = histories.SelectMany(h => h.History)
            .Where(e => e.Event == "started" && e.Source == drained.Heartbeat.WorkerId).ToList();
        Assert.DoesNotContain(startsByDrained, e => e.At > drainingSince);
        foreach (var held in heldAtDrain.Where(uploads.Contains))
        {
            // What it held running, it finished itself.
            Assert.Contains(histories.Single(h => h.Upload.Id == held).History, e => e.Event == "processed" && e.Source == drained.Heartbeat.WorkerId);
        }

        var startsByOthers = histories.SelectMany(h => h.History).Count(e => e.Event == "started" && e.Source != drained.Heartbeat.WorkerId);
        Assert.True(startsByOthers > 0);
        output.WriteLine($"[ops] drain seen in {drainSeenAfter.TotalSeconds:0.0} s; the drained worker finished {heldAtDrain.Count} running jobs and started " +
                         $"{startsByDrained.Count} of 20 in all, the other {startsByOthers}; all 20 Ready");

        // Back to two workers for the next tests, from the page: Resume connects the drained worker to its queue again.
        var page = await _browser.OpenConsoleAsync(Gateway, OperationsStorefront.AdminKey);
        var row = page.Locator($"[data-testid=worker-row][data-worker-id='{drained.Heartbeat.WorkerId}']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "Drained");
        clock.Restart();
        await row.GetByTestId("worker-resume").ClickAsync();
        await Assertions.Expect(page.GetByTestId("action-status")).ToHaveAttributeAsync("data-state", "done");
        await Assertions.Expect(page.Locator($"[data-testid=worker-row][data-worker-id='{drained.Heartbeat.WorkerId}'][data-state=Running]"))
            .ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 15_000 });
        output.WriteLine($"[ops] the drained worker resumed from the page: Running {clock.Elapsed.TotalSeconds:0.0} s after the click");
        await WaitForLiveWorkersAsync(ops, 2);
    }

    [Fact]
    public async Task A_killed_worker_shows_lost_on_the_page_and_its_replacement_appears()
    {
        var ops = storefront.CreateOperationsClient();
        var workers = await WaitForLiveWorkersAsync(ops, 2);
        var victim = workers.Single(w => w.Heartbeat.Name == "imageworker-2").Heartbeat;
        var page = await _browser.OpenConsoleAsync(Gateway, OperationsStorefront.AdminKey);
        await Assertions.Expect(page.Locator($"[data-testid=worker-row][data-worker-id='{victim.WorkerId}'][data-state=Running]")).ToBeVisibleAsync();

        var pid = Faults.Kill(storefront.App, victim.Name);
        Assert.Equal(victim.Pid, pid);
        var clock = Stopwatch.StartNew();
        await Assertions.Expect(page.Locator($"[data-testid=worker-row][data-worker-id='{victim.WorkerId}'][data-state=Lost]"))
            .ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 40_000 });
        var lostAfter = clock.Elapsed;
        await page.WaitForFunctionAsync(
            $"() => [...document.querySelectorAll('[data-testid=worker-row][data-name=\"{victim.Name}\"][data-state=Running]')].some(r => r.dataset.workerId !== '{victim.WorkerId}')",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 200 });
        var replacedAfter = clock.Elapsed;
        await Browser.ScreenshotAsync(page, "jobs-console-lost-worker");

        // Its last heartbeat was at most one interval before the kill, so "lost" cannot show much before 15 s, nor long after.
        Assert.InRange(lostAfter, TimeSpan.FromSeconds(11), TimeSpan.FromSeconds(15 + 3 + 4));
        output.WriteLine($"[ops] a SIGKILLed worker was shown lost {lostAfter.TotalSeconds:0.0} s after the kill; its replacement showed Running after {replacedAfter.TotalSeconds:0.0} s");
        await WaitForLiveWorkersAsync(ops, 2);
    }

    [Fact]
    public async Task A_hung_job_is_ended_within_its_budget_and_the_console_names_the_job_the_worker_and_the_reason()
    {
        var client = storefront.CreateClient();
        var ops = storefront.CreateOperationsClient();
        await WaitForLiveWorkersAsync(ops, 2);
        var photo = Corpus.Path("leaf-2560x1600.jpg");
        using var response = await client.UploadAsync(await File.ReadAllBytesAsync(photo), "leaf.jpg", OperationsStorefront.HangingProductId);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var upload = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<AcceptedUpload>(response.Content, StorefrontClient.Json))!.Id;

        var started = await Until(async () => (await ops.UploadAsync(upload)).History.FirstOrDefault(h => h.Event == "started"), TimeSpan.FromSeconds(30));
        var ended = await Until(async () => (await ops.UploadAsync(upload)).History
            .FirstOrDefault(h => h.Event == "failed" && h.Source == started!.Source), OperationsStorefront.JobTimeBudget + TimeSpan.FromSeconds(30));
        var endedAfter = ended!.At - started!.At;
        Assert.Contains("time-budget", ended.Detail);
        Assert.Contains(upload.ToString(), ended.Detail);

        var page = await _browser.OpenConsoleAsync(Gateway, OperationsStorefront.AdminKey);
        var lastWords = page.Locator($"[data-testid=worker-row][data-worker-id='{started.Source}'] [data-testid=worker-last-words]");
        await Assertions.Expect(lastWords).ToContainTextAsync(upload.ToString());
        await Assertions.Expect(lastWords).ToContainTextAsync("time budget");
        await Browser.ScreenshotAsync(page, "jobs-console-hung-job");

        Assert.True(endedAfter <= OperationsStorefront.JobTimeBudget + TimeSpan.FromSeconds(10),
            $"The hung job ran {endedAfter.TotalSeconds:0.0} s; its budget is {OperationsStorefront.JobTimeBudget.TotalSeconds} s.");
        output.WriteLine($"[ops] a hung job was ended {endedAfter.TotalSeconds:0.0} s after it started (budget {OperationsStorefront.JobTimeBudget.TotalSeconds:0} s), named by worker {started.Source}");
    }

    private static readonly TimeSpan OperationsHeartbeat = TimeSpan.FromSeconds(3.5);

    private static Task<T?> Until<T>(Func<Task<T?>> read, TimeSpan timeout) where T : class =>
        Poll.UntilAsync(read, value => value is not null, timeout);

    private static async Task<UploadDto> UploadAndWaitAsync(StorefrontClient client, string photo)
    {
        var accepted = await client.UploadAcceptedAsync(Corpus.Path(photo));
        var finished = await client.WaitUntilFinishedAsync(accepted.Id);
        Assert.Equal("Ready", finished.Status);
        return finished;
    }

    /// <summary>Uploads the corpus's large photos, four at a time; the ids once every upload has its 202.</summary>
    private static async Task<List<Guid>> StartBurst(StorefrontClient client, int count)
    {
        string[] photos = ["mouse-3840x2400.jpg", "autumn-2560x1600-progressive.jpg", "kite-2560x1600.jpg", "cups-2560x1600-exif.jpg"];
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            ids.Add((await client.UploadAcceptedAsync(Corpus.Path(photos[i % photos.Length]))).Id));
        return ids.ToList();
    }

    private static async Task<List<WorkerViewDto>> WaitForLiveWorkersAsync(OperationsClient ops, int count)
    {
        var live = await Until(async () =>
        {
            var workers = (await ops.WorkersAsync()).Where(w => !w.Lost && w.Heartbeat.State == "Running").ToList();
            return workers.Select(w => w.Heartbeat.Name).Distinct().Count() >= count ? workers : null;
        }, TimeSpan.FromSeconds(90));
        return live!;
    }

    private static async Task ExpectProblemAsync(Task<HttpResponseMessage> sending, HttpStatusCode status, string? detailContains = null)
    {
        using var response = await sending;
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (detailContains is not null)
        {
            Assert.Contains(detailContains, await response.Content.ReadAsStringAsync());
        }
    }
}
