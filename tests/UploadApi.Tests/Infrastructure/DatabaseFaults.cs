using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Reference.UploadApi.Tests.Infrastructure;

/// <summary>
/// Faults a real MySQL connection can have, made on purpose in replica A's commands on the
/// <c>uploads</c> table (the server itself stays up and does its work).
/// </summary>
public sealed class DatabaseFaults : DbCommandInterceptor
{
    private int _insertAnswersToLose;
    private int _insertsToRefuse;
    private int _readsToFail;

    /// <summary>
    /// The next <paramref name="count"/> inserts commit on the server, then fail as a command
    /// timeout, as when the server restarts right after a commit: the retrying strategy
    /// runs the insert again and meets its own row.
    /// </summary>
    public void LoseInsertAnswers(int count) => _insertAnswersToLose = count;

    /// <summary>The next <paramref name="count"/> inserts fail before they reach the server.</summary>
    public void RefuseInserts(int count) => _insertsToRefuse = count;

    /// <summary>
    /// The next <paramref name="count"/> "does this row exist" reads fail before they reach the
    /// server (the sweeper's reads are left alone).
    /// </summary>
    public void FailExistenceChecks(int count) => _readsToFail = count;

    public void Clear() => _insertAnswersToLose = _insertsToRefuse = _readsToFail = 0;

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (IsInsert(command) && Take(ref _insertsToRefuse))
        {
            throw new TimeoutException("Injected: the insert never reached the server.");
        }

        if (IsExistenceCheck(command) && Take(ref _readsToFail))
        {
            throw new TimeoutException("Injected: the read never reached the server.");
        }

        return ValueTask.FromResult(result);
    }

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(
        DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        // No transaction: an autocommitted insert is durable once it has executed.
        if (IsInsert(command) && command.Transaction is null && Take(ref _insertAnswersToLose))
        {
            await result.DisposeAsync();
            throw new TimeoutException("Injected: the insert committed, its answer was lost.");
        }

        return result;
    }

    private static bool IsInsert(DbCommand command) => command.CommandText.Contains("INSERT INTO `Uploads`", StringComparison.OrdinalIgnoreCase);

    private static bool IsExistenceCheck(DbCommand command) =>
        command.CommandText.Contains("EXISTS", StringComparison.Ordinal)
        && command.CommandText.Contains("FROM `Uploads`", StringComparison.OrdinalIgnoreCase);

    private static bool Take(ref int remaining)
    {
        while (true)
        {
            var current = Volatile.Read(ref remaining);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref remaining, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}
