using Microsoft.Extensions.Options;
using Npgsql;
using VideoGen.Coordinator.Hosting;

namespace VideoGen.Coordinator.Persistence;

/// <summary>Configuration section <c>JobStore</c>: which store keeps jobs and events.</summary>
public sealed class JobStoreOptions
{
    public const string Section = "JobStore";
    public const string SqliteKind = "sqlite";
    public const string PostgresKind = "postgres";

    /// <summary><c>sqlite</c> (default: <c>videogen.db</c> in <c>Coordinator:DataDirectory</c>) or <c>postgres</c>.</summary>
    public string Kind { get; set; } = SqliteKind;

    /// <summary>Npgsql connection string; required when <see cref="Kind"/> is <c>postgres</c>.</summary>
    public string? ConnectionString { get; set; }

    public bool UsesPostgres => string.Equals(Kind, PostgresKind, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Start-up validation of <see cref="JobStoreOptions"/>, with messages that name the key to fix.</summary>
public sealed class JobStoreOptionsValidator : IValidateOptions<JobStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, JobStoreOptions o)
    {
        if (!string.Equals(o.Kind, JobStoreOptions.SqliteKind, StringComparison.OrdinalIgnoreCase) && !o.UsesPostgres)
        {
            return ValidateOptionsResult.Fail($"JobStore:Kind is '{o.Kind}'; use '{JobStoreOptions.SqliteKind}' (default) or '{JobStoreOptions.PostgresKind}'.");
        }

        if (!o.UsesPostgres)
        {
            return ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(o.ConnectionString))
        {
            return ValidateOptionsResult.Fail(
                "JobStore:Kind=postgres needs JobStore:ConnectionString, e.g. 'Host=db;Port=5432;Database=videogen;Username=videogen;Password=…' (env JobStore__ConnectionString).");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(o.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword; the connection string itself may hold a password.
            return ValidateOptionsResult.Fail($"JobStore:ConnectionString is not a valid Npgsql connection string: {ex.Message}");
        }

        return ValidateOptionsResult.Success;
    }
}

public static class JobStoreRegistration
{
    /// <summary>
    /// Registers <see cref="IJobStore"/> from the <c>JobStore</c> section: SQLite in
    /// <paramref name="options"/>' data directory (default) or PostgreSQL. The options are validated
    /// at start-up.
    /// </summary>
    public static IServiceCollection AddJobStore(this IServiceCollection services, IConfiguration configuration, CoordinatorOptions options)
    {
        services.AddSingleton<IValidateOptions<JobStoreOptions>, JobStoreOptionsValidator>();
        services.AddOptions<JobStoreOptions>().Bind(configuration.GetSection(JobStoreOptions.Section)).ValidateOnStart();
        services.AddSingleton<IJobStore>(sp =>
        {
            var store = sp.GetRequiredService<IOptions<JobStoreOptions>>().Value;
            return store.UsesPostgres
                ? OpenPostgres(store.ConnectionString!)
                : new SqliteJobStore(Path.Combine(options.DataDirectory, "videogen.db"));
        });
        return services;
    }

    private static PostgresJobStore OpenPostgres(string connectionString)
    {
        try
        {
            return new PostgresJobStore(connectionString);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            var target = new NpgsqlConnectionStringBuilder(connectionString);
            throw new InvalidOperationException(
                $"JobStore: cannot open PostgreSQL at {target.Host}:{target.Port}, database '{target.Database ?? target.Username}' (JobStore:ConnectionString): {ex.Message}", ex);
        }
    }
}
