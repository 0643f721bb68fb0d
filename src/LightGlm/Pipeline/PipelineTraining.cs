// Turns a run config's "parallel" section into the trainer's pipeline engine (threads or this MPI rank's stage),
// with the planner's prediction for it, and describes the layout for the memory estimate.
using LightGlm.Kernels.Mpi;
using LightGlm.Model;
using LightGlm.Pipeline.Planning;
using LightGlm.Training;

namespace LightGlm.Pipeline;

public static class PipelineTraining
{
    /// <summary>The validated configuration and split (all problems in one ArgumentException).</summary>
    public static (PipelineConfig Config, StageSplit Split) Resolve(ModelConfig c, PipelineOptions p, int rowsPerStep)
    {
        ScheduleKind kind;
        try { kind = PipelineSchedule.Parse(p.Schedule); }
        catch (FormatException e) { throw new ArgumentException(e.Message); }
        var cfg = new PipelineConfig(p.PipelineStages, p.MicroBatches, p.DataParallel, kind).Validate(c.L, rowsPerStep);
        StageSplit split;
        try { split = p.StageSplit is { } text ? StageSplit.Parse(text, c.L) : StageSplit.Even(c.L, cfg.Stages); }
        catch (FormatException e) { throw new ArgumentException(e.Message); }
        if (split.Stages != cfg.Stages) throw new ArgumentException($"stage split {split} has {split.Stages} stages but pipeline_stages is {cfg.Stages}");
        if (cfg.Stages > 1 && c.TieWordEmbeddings)
            throw new ArgumentException("pipeline stages need untied embeddings (tie_word_embeddings = false): the embedding lives on the first stage and the LM head on the last");
        return (cfg, split);
    }

    /// <summary>MPI_COMM_WORLD, initialising MPI when this is the first use (clear error when MPI is not installed).</summary>
    public static MpiComm World()
    {
        try { return MpiComm.World(); }
        catch (MpiUnavailableException e) { throw new ArgumentException("parallel.transport = mpi (--transport mpi) needs MPI: " + e.Message); }
    }

    /// <summary>The layout for <see cref="MemoryEstimator"/>: on MPI only this rank's stage.</summary>
    public static PipelineShape Shape(ModelConfig c, PipelineOptions p, int rowsPerStep)
    {
        var (cfg, split) = Resolve(c, p, rowsPerStep);
        int? only = p.Transport == "mpi" ? World().Rank % cfg.Stages : null;
        return new PipelineShape(cfg.Stages, cfg.MicroBatches, cfg.Replicas, cfg.Schedule == ScheduleKind.GPipe, split.Bounds, only);
    }

    /// <summary>For code that builds its own <see cref="Trainer"/> (the recipe's teacher stage): when <paramref name="p"/>
    /// asks for a pipeline, trains <paramref name="trainer"/> through it from now on (its step = batch_size × grad_accum
    /// rows cut into data_parallel × micro_batches micro-batches); returns the engine, or null for one-thread training.
    /// Checkpoints, resume and the NaN check work unchanged (threads; MPI needs TrainingRun's gather before saving).</summary>
    public static PipelineGradientEngine? Attach(Trainer trainer, PipelineOptions p, Action<string> log)
    {
        if (!p.Enabled) return null;
        if (p.Transport != "threads") throw new ArgumentException("Attach supports the threads transport; use `lightglm train --transport mpi` for MPI");
        var o = trainer.Options;
        var engine = Create(trainer.Model, p, o.BatchSize * o.GradAccum, o.SeqLen, log);
        trainer.Engine = engine;
        log(engine.Description);
        return engine;
    }

    /// <summary>The engine for <paramref name="model"/>. With p.Predict, profiles the layers (one core, a few
    /// seconds) and attaches the planner's prediction, whose update term is the trainer's central AdamW of all
    /// parameters (the trainer clips by the global norm, so it updates after the pipeline, not per stage).</summary>
    public static PipelineGradientEngine Create(GlmModel model, PipelineOptions p, int rowsPerStep, int seq, Action<string> log)
    {
        var (cfg, split) = Resolve(model.Config, p, rowsPerStep);
        PipelineGradientEngine engine;
        LinkCost? link = null;
        if (p.Transport == "mpi")
        {
            var world = World();
            engine = PipelineGradientEngine.Mpi(model, cfg, split, MpiPipelineGroups.Create(world, cfg.Stages, cfg.Replicas));
            if (p.Predict) link = CostProfiler.MeasureMpi(world);
        }
        else
        {
            engine = PipelineGradientEngine.Threads(model, cfg, split, Model.Ops.Parallelism.MaxThreads);
            if (p.Predict) link = CostProfiler.MeasureInProcess();
        }
        // On MPI only rank 0 reports, so only it profiles (the others wait for its first activations meanwhile).
        if (link is not null && (p.Transport != "mpi" || World().Rank == 0))
        {
            int rows = rowsPerStep / (cfg.Replicas * cfg.MicroBatches);
            var profile = CostProfiler.Profile(model, seq, Math.Max(2, Math.Min(rows, 8)), link, repeats: 3,
                cores: p.Transport == "mpi" ? Environment.ProcessorCount : Model.Ops.Parallelism.MaxThreads);
            var plan = new PipelinePlanner(profile).Predict(cfg, split, rowsPerStep);
            double update = model.Layout.TotalLength * profile.UpdateSecondsPerParameter;
            engine.Prediction = plan with { UpdateSeconds = update, StepSeconds = plan.ComputeSeconds + plan.CommSeconds + plan.AllReduceSeconds + update };
            log($"planner prediction for {cfg} split {split}: {engine.Prediction.StepSeconds:F4} s/step (compute {plan.ComputeSeconds:F4}, " +
                $"comm {plan.CommSeconds:F4}, all-reduce {plan.AllReduceSeconds:F4}, update {update:F4}), bubble {plan.Bubble:F3}, " +
                $"stage memory {string.Join(" / ", plan.StageMemoryBytes.Select(MemoryEstimate.Mb))}");
        }
        return engine;
    }
}
