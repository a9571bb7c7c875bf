using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.ImageWorker.Operations;
using Reference.ImageWorker.Pipeline;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Makes the variants of an uploaded original and publishes Started, then Processed or (for an image that can
/// never be processed, or poison) Failed. A redelivery whose variants exist publishes Processed again. Other
/// exceptions are transient: retried by the definition, then <c>Fault&lt;ImageUploaded&gt;</c>.
/// </summary>
public sealed class ImageUploadedConsumer(
    VariantWriter variantWriter,
    ProcessingAttempts attempts,
    WorkerJobGate gate,
    WorkerJobs jobs,
    WorkerDrain drain,
    WorkerHeartbeats heartbeats,
    IOptions<ImageOptions> options,
    IOptions<FaultInjectionOptions> faultInjection,
    ILogger<ImageUploadedConsumer> logger) : IConsumer<ImageUploaded>
{
    public async Task Consume(ConsumeContext<ImageUploaded> context)
    {
        var job = context.Message;

        var existing = await variantWriter.FindExistingAsync(job.UploadId, context.CancellationToken);
        if (existing is not null)
        {
            logger.LogInformation("Upload {UploadId} already has its variants; publishing them again.", job.UploadId);
            await context.Publish(new ImageProcessed(job.UploadId, job.ProductId, existing,
                await variantWriter.MakePlaceholderAsync(existing, context.CancellationToken)));
            return;
        }

        // A job that was in a worker's hands each time it died runs alone, so a death can only be its own.
        var suspect = await attempts.UnfinishedAsync(job.UploadId) >= options.Value.MaxProcessingAttempts;
        // Read and checked once, here for its memory estimate; a suspect's only after its start is counted.
        var original = suspect ? null : await variantWriter.ReadOriginalAsync(job.OriginalKey, context.CancellationToken);
        using var held = jobs.Receive(job.UploadId, job.ProductId, original?.FileBytes ?? 0, original?.Pixels ?? 0);
        using var place = original is null
            ? await gate.EnterAloneAsync(context.CancellationToken)
            : await gate.EnterAsync(original.EstimatedMemory, context.CancellationToken);
        if (drain.IsDraining)
        {
            // Not started, so not ours to finish: the endpoint's stop cancels this wait and the broker gives the job to another worker.
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }

        held.Start();
        var starts = await attempts.StartAsync(job.UploadId, alone: suspect);
        try
        {
            await ProcessAsync(context, starts, original, held);
        }
        finally
        {
            // Not reached when the process dies mid-job: that start stays counted.
            if (starts is not null)
            {
                await attempts.FinishAsync(job.UploadId, alone: suspect);
            }
        }
    }

    private async Task ProcessAsync(ConsumeContext<ImageUploaded> context, ProcessingAttempts.Starts? starts, CheckedOriginal? original, WorkerJobs.Held held)
    {
        var job = context.Message;
        if (starts is { Alone: > 1 } died)
        {
            logger.LogError("Upload {UploadId} was started {Count} times without finishing, the last time alone in its worker; failing it.",
                job.UploadId, died.All - 1);
            await variantWriter.DeleteVariantsAsync(job.UploadId, context.CancellationToken);
            var reason = $"Processing was started {died.All - 1} times without finishing, the last time with nothing else running in the worker: " +
                "the image crashes the worker. It is not tried again.";
            held.FailedWith("poison", reason);
            await context.Publish(new ImageProcessingFailed(job.UploadId, job.ProductId, reason));
            return;
        }

        if (job.ProductId is { } productId && productId == faultInjection.Value.CrashOnProductId)
        {
            Environment.FailFast($"Fault injection: crashing on upload {job.UploadId} for product {productId}.");
        }

        await context.Publish(new ImageProcessingStarted(job.UploadId));

        IReadOnlyList<ImageVariant> variants;
        var startedAt = Stopwatch.GetTimestamp();
        try
        {
            // A decoder that runs away cannot be stopped from outside: the process ends instead, naming the job first.
            using var watchdog = new Timer(_ =>
            {
                var reason = $"Upload {job.UploadId} ran past the job time budget of {options.Value.JobTimeBudget}; the worker ends itself.";
                held.FailedWith("time-budget", reason, wait: true);
                heartbeats.SendLastWords(reason);
                Environment.FailFast(reason);
            }, null, options.Value.JobTimeBudget, Timeout.InfiniteTimeSpan);
            if (job.ProductId is { } hangingProduct && hangingProduct == faultInjection.Value.HangOnProductId)
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }

            variants = await variantWriter.WriteAsync(job.UploadId, original ?? await variantWriter.ReadOriginalAsync(job.OriginalKey, context.CancellationToken), context.CancellationToken);
        }
        catch (UnprocessableImageException e)
        {
            logger.LogWarning(e, "Upload {UploadId} cannot be processed: {Reason}", job.UploadId, e.Message);
            held.FailedWith("unprocessable", e.Message);
            await context.Publish(new ImageProcessingFailed(job.UploadId, job.ProductId, e.Message));
            return;
        }

        logger.LogInformation("Upload {UploadId}: {Count} variants written in {Milliseconds:0} ms.",
            job.UploadId, variants.Count, Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds);
        held.Succeeded();
        var placeholder = await variantWriter.MakePlaceholderAsync(variants, context.CancellationToken);
        await context.Publish(new ImageProcessed(job.UploadId, job.ProductId, variants, placeholder));
    }
}
