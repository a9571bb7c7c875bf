using System.Diagnostics;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;
using MySqlConnector;
using Reference.Reliability.Tests.Support;
using Reference.Tests.Storefront;

namespace Reference.Reliability.Tests;

/// <summary>The page: workers and their jobs during a burst, a retry from the page, a killed worker.</summary>
public sealed partial class OperationsConsoleTests
{
    [Fact]
    [RunsFirst]
    public async Task The_page_shows_both_workers_with_their_jobs_during_a_burst_and_the_throughput_after_it()
    {
        var client = storefront.CreateClient();
        await WaitForLiveWorkersAsync(storefront.CreateOperationsClient(), 2);
        var page = await _browser.OpenConsoleAsync(Gateway, OperationsStorefront.AdminKey);
        await Assertions.Expect(page.Locator("[data-testid=worker-row][data-state=Running]")).ToHaveCountAsync(2);

        var clock = Stopwatch.StartNew();
        var burst = StartBurst(client, 24);
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
        output.WriteLine($"[ops] both workers shown holding jobs {bothBusyAfter.TotalSeconds:0.0} s into a burst of 24; the burst was Ready after {burstTook.TotalSeconds:0.0} s");
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
}
