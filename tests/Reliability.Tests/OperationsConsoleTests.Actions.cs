using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Microsoft.Playwright;
using RabbitMQ.Client;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;
using Reference.Tests.Support;

namespace Reference.Reliability.Tests;

/// <summary>The actions: error queues, drain and resume (from the page and the dashboard), and the hung job the watchdog ends.</summary>
public sealed partial class OperationsConsoleTests
{
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
        await WaitForWorkQueueConsumersAsync(ops, 2);
    }

    [Fact]
    public async Task The_dashboard_commands_drain_and_resume_a_worker_through_the_console()
    {
        var ops = storefront.CreateOperationsClient();
        await WaitForLiveWorkersAsync(ops, 2);
        const string worker = "imageworker-1";
        var clock = Stopwatch.StartNew();

        var drain = await ExecuteDashboardCommandAsync(worker, "drain");
        Assert.True(drain.Success, drain.Message);
        var drained = await Until(async () => (await ops.WorkersAsync())
            .FirstOrDefault(w => !w.Lost && w.Heartbeat.Name == worker && w.Heartbeat.State == "Drained"), TimeSpan.FromSeconds(30));
        var drainedAfter = clock.Elapsed;
        Assert.All((await ops.WorkersAsync()).Where(w => !w.Lost && w.Heartbeat.Name != worker), w => Assert.Equal("Running", w.Heartbeat.State));

        clock.Restart();
        var resume = await ExecuteDashboardCommandAsync(worker, "resume");
        Assert.True(resume.Success, resume.Message);
        await Until(async () => (await ops.WorkersAsync())
            .FirstOrDefault(w => w.Heartbeat.WorkerId == drained!.Heartbeat.WorkerId && w.Heartbeat.State == "Running"), TimeSpan.FromSeconds(30));
        await WaitForWorkQueueConsumersAsync(ops, 2);
        output.WriteLine($"[ops] dashboard commands on {worker}: Drain → Drained in {drainedAfter.TotalSeconds:0.0} s, Resume → Running in {clock.Elapsed.TotalSeconds:0.0} s");

        // A second resume finds nothing to resume: the console's 409 comes back as the command's failure.
        var again = await ExecuteDashboardCommandAsync(worker, "resume");
        Assert.False(again.Success);
    }

    [Fact]
    [RunsLast]
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

    private async Task<ExecuteCommandResult> ExecuteDashboardCommandAsync(string resource, string command)
    {
        var model = storefront.App.Services.GetRequiredService<DistributedApplicationModel>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        return await storefront.App.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(model.Resources.Single(r => r.Name == resource), command, timeout.Token);
    }
}
